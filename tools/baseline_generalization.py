"""How the offline extractor carries to packets its weights were not fitted on.

    uv run python tools/baseline_generalization.py [--misses]

Two honest stand-ins for a held-out set, both built from development data only
(the golden test split and datasets/fresh are never read):

- *golden dev -> outside*: weights fitted on the golden dev split alone, scored
  on every outside-dev packet (independent writers and calibrator);
- *cross-validation*: the outside-dev packets in five folds; each fold is
  scored with weights fitted on golden dev and the other four folds.

Scoring goes through the extractor's own path (``find_evidence`` and
``build_assessment``), so the figures are the harness's figures.
``--misses`` lists, for the first stand-in, every calibrator span the
extractor did not find and why.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_baseline import DevPacket, fit_weights, load_packets  # noqa: E402

from packet_eval.agreement import agreement_report, record_from_assessment, record_from_label  # noqa: E402
from packet_eval.assemble import build_assessment  # noqa: E402
from packet_eval.extractors import baseline  # noqa: E402
from packet_eval.ladder import Ladder, load_ladder  # noqa: E402
from packet_eval.schema import ExtractorInfo  # noqa: E402

OUTSIDE = ("outside-dev", "outside-dev2")
FOLDS = 5


def _records(ladder: Ladder, packets: list[DevPacket], w: baseline.Weights):  # type: ignore[no-untyped-def]
    gold, pred = [], []
    for p in packets:
        ev = baseline.find_evidence(ladder, p.packet, p.reading, w)
        a = build_assessment(ladder, p.packet, ExtractorInfo(name="baseline", model="baseline"), ev, [],
                             injections=p.reading.injected)
        gold.append(record_from_label(p.label, p.packet.text))
        pred.append(record_from_assessment(a))
    return gold, pred


def _line(name: str, ladder: Ladder, gold, pred) -> str:  # type: ignore[no-untyped-def]
    r = agreement_report(gold, pred, levels=ladder.scale, dimensions=ladder.dimension_ids, flags=[],
                         n_boot=20)
    o, d, e = r.overall, r.dimensions, r.evidence
    return (f"{name:26s} n={r.n_packets:3d} exact {o.exact_accuracy:.3f} within1 "
            f"{o.within_one_accuracy:.3f} QWK {o.kappa_quadratic:.3f} dimQWK "
            f"{d.pooled.kappa_quadratic:.3f} recall {e.recall:.3f} (any dim {e.recall_any_dimension:.3f}) "
            f"precision {e.precision:.3f}")


def _misses(ladder: Ladder, packets: list[DevPacket], w: baseline.Weights) -> None:
    for p in packets:
        ev = baseline.find_evidence(ladder, p.packet, p.reading, w)
        for dim, spans in p.spans.items():
            got = [(e.start, e.end) for e in ev[dim]]
            for s, e in spans:
                if any(min(e, b) - max(s, a) >= 0.5 * min(e - s, b - a) for a, b in got):
                    continue
                cand = next((i for i, c in enumerate(p.reading.candidates)
                             if c.unit.start < e and s < c.unit.end), None)
                why = "not a candidate"
                if cand is not None:
                    prob = baseline._sigmoid(p.reading.relevance[cand] @ w.relevance)
                    order = list((-prob).argsort())
                    why = (f"p={prob[ladder.dimension_ids.index(dim)]:.2f} rank "
                           f"{order.index(ladder.dimension_ids.index(dim)) + 1}")
                print(f"{p.packet_id} {dim} [{p.label.dimensions[dim].level}] {why}: "
                      f"{p.packet.text[s:e][:150]!r}")


def main() -> None:
    ladder = load_ladder()
    golden = load_packets(("golden",), ladder)
    names = tuple(n for n in OUTSIDE if (Path(__file__).resolve().parents[1] / "datasets" / n).is_dir())
    outside = load_packets(names, ladder)
    w = fit_weights(golden, ladder, verbose=False)
    gold, pred = _records(ladder, outside, w)
    print(_line("golden dev -> outside", ladder, gold, pred))
    if "--misses" in sys.argv:
        _misses(ladder, outside, w)
    gold, pred = [], []
    for k in range(FOLDS):
        held = [p for i, p in enumerate(outside) if i % FOLDS == k]
        rest = [p for i, p in enumerate(outside) if i % FOLDS != k]
        g, pr = _records(ladder, held, fit_weights(golden + rest, ladder, verbose=False))
        gold += g
        pred += pr
    print(_line(f"{FOLDS}-fold CV over outside", ladder, gold, pred))


if __name__ == "__main__":
    main()
