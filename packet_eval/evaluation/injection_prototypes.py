"""Build the injection detector's learned prototypes from dev data, and say how well they generalize.

Injections: every ``dev`` form of the suite. Ordinary paragraphs: the dev packets
of the golden and outside-dev sets (those not labelled ``prompt_injection``), the
shipped sample packet and the dev benign security-work packets. Nothing from a ``test`` split is read.

Leave-one-family-out: for each family, prototypes are built without its forms
(and without a matching share of the ordinary packets, assigned by packet), and
its forms and those packets are scored. The threshold is the highest score any
held-out ordinary paragraph reached, so on dev no held-out ordinary paragraph
is flagged; the per-family recall at that threshold is what an unseen family
can expect from this half of the detector alone (the rules are the other half,
and were written with every dev family in view, so they have no honest
held-out figure here).

    uv run python -m packet_eval.evaluation.injection_prototypes            # report only
    uv run python -m packet_eval.evaluation.injection_prototypes --write    # also write prototypes.npz
    uv run python -m packet_eval.evaluation.injection_prototypes --check    # shipped file is current?
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from packet_eval.dataset import load_dataset
from packet_eval.evaluation.injection_data import benign_packets, suite_forms
from packet_eval.extractors.embedding import embed
from packet_eval.injection.assessment_terms import names_assessment
from packet_eval.injection.normalize import fold
from packet_eval.injection.resemblance import PROTOTYPES, centred, paragraphs, scores
from packet_eval.ladder import load_ladder

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_PACKET = resources.files("packet_eval") / "examples" / "sample-packet.md"
ORDINARY_SETS = ("datasets/golden", "datasets/outside-dev")
MARGIN = 0.005  # above the highest held-out ordinary score, so a near twin is not flagged


@dataclass
class TrainingData:
    families: list[str]  # per injection row
    form_ids: list[str]
    injections: np.ndarray  # raw vectors
    groups: list[str]  # packet per ordinary row
    ordinary: np.ndarray
    ordinary_named: np.ndarray  # names something the assessment decides (only those can be flagged)
    injections_named: np.ndarray


def ordinary_texts(root: Path = ROOT) -> dict[str, str]:
    """Dev packets that are accounts of work (no labelled injection), and dev benign packets."""
    ladder = load_ladder()
    out: dict[str, str] = {}
    for rel in ORDINARY_SETS:
        ds = load_dataset(root / rel, ladder)
        for pid in ds.ids("dev"):
            if "prompt_injection" not in ds.primary(pid).flags:
                out[f"{rel.rsplit('/', 1)[-1]}/{pid}"] = ds.packet(pid).text
    out.update({f"benign/{n}": t for n, t in benign_packets("dev").items()})
    out["examples/sample-packet"] = SAMPLE_PACKET.read_text(encoding="utf-8")
    return out


def training_data(root: Path = ROOT) -> TrainingData:
    forms = suite_forms("dev")
    groups, paras = [], []
    for name, text in sorted(ordinary_texts(root).items()):
        for s, e in paragraphs(text):
            groups.append(name)
            paras.append(fold(text[s:e]))
    texts = [fold(f.text) for f in forms]
    return TrainingData([f.family for f in forms], [f.id for f in forms], embed(texts), groups,
                        embed(paras), np.array([names_assessment(p) for p in paras]),
                        np.array([names_assessment(t) for t in texts]))


def cross_validate(data: TrainingData) -> dict[str, object]:
    """Leave-one-family-out scores, the zero-false-positive threshold and the recall it gives."""
    fams = sorted(set(data.families))
    names = sorted(set(data.groups))
    fold_of = {g: i % len(fams) for i, g in enumerate(names)}
    fam = np.array(data.families)
    grp_fold = np.array([fold_of[g] for g in data.groups])
    inj_scores = np.zeros(len(fam))
    ord_scores = np.zeros(len(data.groups))
    for k, held in enumerate(fams):
        keep_i, keep_o = fam != held, grp_fold != k
        centre = np.vstack([data.injections[keep_i], data.ordinary[keep_o]]).mean(axis=0)
        inj, ordn = centred(data.injections, centre), centred(data.ordinary, centre)
        inj_scores[~keep_i] = scores(inj[~keep_i], inj[keep_i], ordn[keep_o])
        ord_scores[~keep_o] = scores(ordn[~keep_o], inj[keep_i], ordn[keep_o])
    # Only a paragraph that names the assessment is flagged, at run time and here.
    ord_scores = np.where(data.ordinary_named, ord_scores, -1.0)
    inj_scores = np.where(data.injections_named, inj_scores, -1.0)
    threshold = float(ord_scores.max()) + MARGIN
    recall = {f: float(np.mean(inj_scores[fam == f] > threshold)) for f in fams}
    missed = sorted(i for i, v in zip(data.form_ids, inj_scores, strict=True) if v <= threshold)
    flagged_packets: dict[str, bool] = defaultdict(bool)
    for g, v in zip(data.groups, ord_scores, strict=True):
        flagged_packets[g] |= bool(v > threshold)
    top = sorted(zip(ord_scores, data.groups, strict=True), reverse=True)[:3]
    return {"threshold": threshold, "forms": len(fam), "families": len(fams),
            "ordinary_paragraphs": len(data.groups), "ordinary_packets": len(names),
            "lofo_recall": float(np.mean(inj_scores > threshold)),
            "lofo_recall_by_family": recall, "lofo_min_family": min(recall.values()),
            "held_out_ordinary_packets_flagged": sum(flagged_packets.values()),
            "highest_ordinary": [[round(float(v), 4), g] for v, g in top], "missed_forms": missed}


def prototypes_bytes(data: TrainingData, threshold: float) -> bytes:
    """The package-data file: centre, unit rows of both kinds (float16) and the threshold."""
    centre = np.vstack([data.injections, data.ordinary]).mean(axis=0)
    buf = io.BytesIO()
    np.savez_compressed(buf, centre=centre.astype(np.float32),
                        injections=centred(data.injections, centre).astype(np.float16),
                        ordinary=centred(data.ordinary, centre).astype(np.float16),
                        threshold=np.float32(threshold))
    return buf.getvalue()


def _same(shipped: Path, data: TrainingData, threshold: float) -> bool:
    if not shipped.is_file():
        return False
    with np.load(shipped) as old, np.load(io.BytesIO(prototypes_bytes(data, threshold))) as new:
        return set(old.files) == set(new.files) and all(
            old[k].shape == new[k].shape and np.allclose(old[k], new[k], atol=1e-3) for k in new.files)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help="write packet_eval/injection/prototypes.npz")
    ap.add_argument("--check", action="store_true", help="exit 1 when the shipped file is not current")
    args = ap.parse_args(argv)
    data = training_data()
    report = cross_validate(data)
    print(json.dumps(report, indent=1))
    target = Path(str(PROTOTYPES))
    if args.check:
        ok = _same(target, data, float(report["threshold"]))  # type: ignore[arg-type]
        print(f"{target.name}: {'current' if ok else 'STALE: rerun with --write'}")
        return 0 if ok else 1
    if args.write:
        target.write_bytes(prototypes_bytes(data, float(report["threshold"])))  # type: ignore[arg-type]
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
