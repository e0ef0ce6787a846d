"""Fit the offline extractor's two linear models on development packets, and nothing else.

    uv run python tools/train_baseline.py [--check]

Development packets are the golden set's dev split and the outside-dev sets
(written outside the project, labelled blind). Relevance: logistic regression,
one row per (visible sentence, dimension), positive when a calibrator quoted
that sentence as evidence for that dimension. Level: ridge regression of the
dimension's labelled level, as a fraction of the ladder's height, on the
positive rows, monotone by prior knowledge (see LOWERING). The evidence
threshold, the support threshold (below which evidence is weak) and the level
shift are chosen on dev by ``selection_key``: pooled dimension quadratic kappa
plus evidence recall up to MIN_RECALL. The golden test split and
datasets/fresh are never read here. Writes
packet_eval/extractors/baseline_model.json; ``--check`` fails if the
committed file differs from a fresh fit beyond solver noise.
``tools/baseline_generalization.py`` reuses ``fit_weights`` to measure how the
models carry to packets they were not fitted on.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge

from packet_eval.agreement import SpanCounts, cohen_kappa, evidence_span_counts
from packet_eval.agreement.records import label_spans
from packet_eval.dataset import load_dataset
from packet_eval.dataset.labels import Label
from packet_eval.extractors import baseline
from packet_eval.extractors.features import LEVEL, RELEVANCE
from packet_eval.ladder import Ladder, load_ladder
from packet_eval.packet import Packet

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "packet_eval" / "extractors" / baseline.MODEL_FILE
SPLIT = "dev"
DEV_SETS = ("golden", "outside-dev", "outside-dev2")
MIN_RECALL = 0.85
# How far above the evidence threshold a sentence must be to carry its own level.
SUPPORT_STEPS = (0.0, 0.1, 0.2, 0.3)
LOWERING = {"sig_direction", "sig_other_decided", "sig_implement", "hedged", "team", "bias"}


@dataclass(frozen=True)
class DevPacket:
    packet_id: str
    packet: Packet
    label: Label
    reading: baseline.PacketReading
    spans: dict[str, list[tuple[int, int]]]


def load_packets(names: tuple[str, ...], ladder: Ladder, split: str = SPLIT) -> list[DevPacket]:
    out = []
    for name in names:
        ds = load_dataset(ROOT / "datasets" / name, ladder)
        for pid in ds.ids(split):
            pk = ds.packet(pid)
            label = ds.primary(pid)
            out.append(DevPacket(pid, pk, label, baseline.read_packet(pk, ladder), label_spans(label, pk.text)))
    return out


def _rows(packets: list[DevPacket], ladder: Ladder):  # type: ignore[no-untyped-def]
    levels = list(ladder.levels)
    rel_x, rel_y, lvl_x, lvl_y = [], [], [], []
    for p in packets:
        for cand in p.reading.candidates:
            u = cand.unit
            for d, dim in enumerate(ladder.dimension_ids):
                hit = any(s < u.end and u.start < e for s, e in p.spans.get(dim, []))
                rel_x.append(cand.vectors.relevance[d])
                rel_y.append(int(hit))
                lv = p.label.dimensions[dim].level
                if hit and lv in levels and cand.reading.attribution != "team":
                    lvl_x.append(cand.vectors.level[d])
                    lvl_y.append(levels.index(lv) / (len(levels) - 1))
    return np.array(rel_x), np.array(rel_y), np.array(lvl_x), np.array(lvl_y)


def predicted_levels(ladder: Ladder, p: DevPacket, w: baseline.Weights) -> tuple[dict[str, str], dict]:
    """Dimension levels and evidence spans as the extractor would give them (fast path)."""
    scale = ["none", *ladder.levels]
    best = dict.fromkeys(ladder.dimension_ids, 0)
    spans: dict[str, list[tuple[int, int]]] = {d: [] for d in ladder.dimension_ids}
    for c in baseline.kept(baseline.choose(p.reading, w, len(ladder.levels))):
        dim = ladder.dimension_ids[c.dimension]
        r = c.rank + 1
        best[dim] = max(best[dim], min(r, 1) if c.strength == "weak" else r)
        u = p.reading.candidates[c.candidate].unit
        spans[dim].append((u.start, u.end))
    return {d: scale[r] for d, r in best.items()}, spans


def dev_scores(ladder: Ladder, packets: list[DevPacket], w: baseline.Weights) -> tuple[float, float]:
    """Pooled dimension quadratic kappa and evidence recall for weights ``w``."""
    gold, pred = [], []
    counts = SpanCounts()
    for p in packets:
        levels, spans = predicted_levels(ladder, p, w)
        for dim in ladder.dimension_ids:
            gold.append(p.label.dimensions[dim].level)
            pred.append(levels[dim])
        counts += evidence_span_counts(p.spans, spans, ladder.dimension_ids)
    return cohen_kappa(gold, pred, ladder.scale, "quadratic"), counts.recall or 0.0


def selection_key(kappa: float, recall: float) -> float:
    """Both matter to a committee: the levels, and finding the evidence a calibrator would quote.

    Kappa alone pushes the threshold up and recall down; recall alone floods a
    dimension with doubtful evidence. Recall counts up to MIN_RECALL only.
    """
    return round(kappa + min(recall, MIN_RECALL), 9)


def fit_weights(packets: list[DevPacket], ladder: Ladder, verbose: bool = True) -> baseline.Weights:
    rx, ry, lx, ly = _rows(packets, ladder)
    rel = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000, fit_intercept=False)
    rel.fit(rx, ry)
    # Monotone by prior knowledge: following direction, implementation work, hedges
    # and team credit can only lower a level; everything else can only raise it.
    sign = np.array([-1.0 if f in LOWERING else 1.0 for f in LEVEL])
    lvl = Ridge(alpha=1.0, fit_intercept=False, positive=True)
    lvl.fit(lx * sign, ly)
    level_w = lvl.coef_ * sign
    best = None
    grid = [(float(t), float(min(t + s, 0.975))) for t in np.arange(0.3, 0.96, 0.025) for s in SUPPORT_STEPS
            if t + s <= 0.975 or s == 0]
    for threshold, support in grid:
        for shift in np.arange(-0.5, 0.51, 0.1):
            w = baseline.Weights(rel.coef_[0], threshold, 1.0, support, level_w, float(shift))
            k, recall = dev_scores(ladder, packets, w)
            key = selection_key(k, recall)
            if best is None or key > best[0]:
                best = (key, k, recall, threshold, support, float(shift))
    assert best is not None
    _, k, recall, threshold, support, shift = best
    if verbose:
        print(f"dev: {len(packets)} packets, {int(ry.sum())}/{len(ry)} positive pairs, "
              f"{len(ly)} level rows; pooled dimension QWK on dev {k:.3f}, evidence recall "
              f"{recall:.3f} at threshold {threshold:.3f}, support {support:.3f}, shift {shift:+.2f}")
    return baseline.Weights(np.round(rel.coef_[0], 6), round(threshold, 3),
                            round(min(support + 0.1, 0.99), 3), round(support, 3), np.round(level_w, 6),
                            round(shift, 2))


def fit() -> dict[str, object]:
    ladder = load_ladder()
    w = fit_weights(load_packets(DEV_SETS, ladder), ladder)
    return {
        "fitted_on": f"split {SPLIT!r} of datasets/{', datasets/'.join(DEV_SETS)}, first calibrator's labels",
        "relevance": {"features": RELEVANCE, "weights": [float(x) for x in w.relevance],
                      "threshold": w.threshold, "strong": w.strong, "support": w.support},
        "level": {"features": LEVEL, "weights": [float(x) for x in w.level], "shift": w.shift},
    }


def _same(a: dict, b: dict) -> bool:  # type: ignore[type-arg]
    """Equal up to solver noise: other BLAS builds differ in the last digits."""
    for part in ("relevance", "level"):
        x, y = a[part], b[part]
        if x["features"] != y["features"] or any(x[k] != y[k] for k in x if k not in ("weights",)):
            return False
        if max(abs(p - q) for p, q in zip(x["weights"], y["weights"], strict=True)) > 1e-3:
            return False
    return a["fitted_on"] == b["fitted_on"]


if __name__ == "__main__":
    model = fit()
    text = json.dumps(model, indent=1) + "\n"
    if "--check" in sys.argv:
        sys.exit(0 if _same(json.loads(OUT.read_text(encoding="utf-8")), model)
                 else f"{OUT} differs from a fresh fit")
    OUT.write_text(text, encoding="utf-8")
    baseline.weights.cache_clear()
    print(f"wrote {OUT}")
