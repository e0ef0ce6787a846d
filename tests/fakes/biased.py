"""Extractors biased on purpose, for tests that a probe or a gate catches the bias."""

from __future__ import annotations

from packet_eval.extractors import baseline


def length_biased(limit: int):
    """The baseline, but every dimension one level higher once a packet is over ``limit`` words."""

    def extract(pkt, ladder, label):
        a = baseline.extract(pkt, ladder, label.target_level)
        if pkt.words <= limit:
            return a
        top = len(ladder.scale) - 1
        dims = {d: f.model_copy(update={"level": ladder.scale[min(top, ladder.rank[f.level] + 1)]})
                for d, f in a.dimensions.items()}
        return a.model_copy(update={"dimensions": dims, "level": ladder.overall_level(
            {d: f.level for d, f in dims.items()})})

    return extract
