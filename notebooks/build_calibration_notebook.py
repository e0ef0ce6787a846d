"""Regenerate notebooks/calibration.ipynb (outputs stripped). Run: uv run python notebooks/build_calibration_notebook.py"""
import nbformat as nbf
nb = nbf.v4.new_notebook()
md = nbf.v4.new_markdown_cell
code = nbf.v4.new_code_cell
cells = [
md("""# Calibration: how far can a committee trust the extractor?

This notebook reads packet-eval's inspect eval logs with `inspect_ai.analysis` and shows where an
extractor agrees with the golden calibrators and where it does not. CI executes it on the baseline
log, so it cannot rot. Point it at any log directory with `PACKET_EVAL_LOG_DIR`:

```bash
uv run inspect eval packet_eval/packet_extraction -T extractor=baseline --model none --log-dir logs/baseline
PACKET_EVAL_LOG_DIR=logs/baseline uv run jupyter nbconvert --execute --to html notebooks/calibration.ipynb
```

Every figure here is computed from the log by `packet_eval.agreement`, the same code the gate uses."""),
code("""import json
import os
from pathlib import Path

import matplotlib.pyplot as plt  # the kernel's inline backend renders PNGs headlessly
import numpy as np
import pandas as pd
from inspect_ai.analysis import evals_df, samples_df

from packet_eval import agreement
from packet_eval.ladder import load_ladder

LOG_DIR = Path(os.environ.get("PACKET_EVAL_LOG_DIR", "../artifacts/eval-logs/baseline"))
logs = sorted(str(p) for p in LOG_DIR.glob("*.eval"))
assert logs, f"no .eval logs in {LOG_DIR}"
ladder = load_ladder()
scale = ladder.scale
evals = evals_df(logs)
samples = samples_df(logs, full=True)  # full: summaries drop metadata over 1k
print(f"{len(logs)} log(s), {len(samples)} scored samples, model {evals['model'].iloc[-1]}")"""),
code("""def as_obj(v):
    return json.loads(v) if isinstance(v, str) else v

rows = []
for _, s in samples.iterrows():
    a = as_obj(s["metadata_assessment"])
    raters = as_obj(s["metadata_raters"])
    labels = as_obj(s["metadata_labels"])
    gold = raters[labels[0]["calibrator"]]
    rows.append({"packet_id": s["sample_id"], "epoch": s["epoch"], "gold": gold["level"], "pred": a["level"],
                 "assessment": a, "gold_record": gold, "raters": raters,
                 "chars": s["metadata_chars"], "cost_usd": a["usage"]["cost_usd"],
                 "input_tokens": a["usage"]["input_tokens"], "cached": a["usage"]["cached"]})
df = pd.DataFrame(rows)
headline = {
    "exact accuracy": agreement.exact_accuracy(df.gold, df.pred, scale),
    "within one level": agreement.within_one_accuracy(df.gold, df.pred, scale),
    "quadratic kappa": agreement.cohen_kappa(df.gold, df.pred, scale, weights="quadratic"),
}
pd.Series(headline).round(3).to_frame("overall level")"""),
md("## Where the levels land: confusion matrix (rows: calibrator, columns: extractor)"),
code("""cm = agreement.confusion_matrix(df.gold, df.pred, scale)
fig, ax = plt.subplots(figsize=(5.5, 4.5))
im = ax.imshow(cm.values, cmap="Blues")
ax.set_xticks(range(len(scale)), scale); ax.set_yticks(range(len(scale)), scale)
ax.set_xlabel("extractor"); ax.set_ylabel("calibrator")
for i in range(len(scale)):
    for j in range(len(scale)):
        ax.text(j, i, int(cm.values[i, j]), ha="center", va="center",
                color="white" if cm.values[i, j] > cm.values.max() / 2 else "black")
fig.colorbar(im, ax=ax, shrink=0.8); plt.tight_layout(); plt.show()
cm"""),
md("## Per-dimension agreement, with 95% bootstrap confidence intervals"),
code("""dim_rows = []
for d in ladder.dimension_ids:
    g = [r["dimensions"][d] for r in df.gold_record]
    p = [a["dimensions"][d]["level"] for a in df.assessment]
    k = agreement.cohen_kappa(g, p, scale, weights="quadratic")
    ci = agreement.bootstrap_ci(lambda idx: agreement.cohen_kappa([g[i] for i in idx], [p[i] for i in idx], scale,
                                                                  weights="quadratic"), len(g), n_boot=500, seed=0)
    dim_rows.append({"dimension": d, "kappa_quadratic": k, "ci_lo": ci[0] if ci else np.nan, "ci_hi": ci[1] if ci else np.nan})
dims = pd.DataFrame(dim_rows).set_index("dimension")
fig, ax = plt.subplots(figsize=(7, 3.8))
ax.barh(dims.index, dims.kappa_quadratic, xerr=[dims.kappa_quadratic - dims.ci_lo, dims.ci_hi - dims.kappa_quadratic],
        color="#4f46e5", alpha=0.8, capsize=3)
ax.set_xlim(-0.2, 1.0); ax.axvline(0, color="grey", lw=0.8); ax.set_xlabel("quadratic-weighted kappa")
ax.invert_yaxis(); plt.tight_layout(); plt.show()
dims.round(3)"""),
md("""## Lost in the middle? Evidence recall by where the calibrator's evidence sits

Each calibrator span counts as found when a predicted span in the same dimension overlaps at
least half of the shorter span (the rule `agreement.spans_match` documents)."""),
code("""pos_rows = []
for _, r in df.iterrows():
    pred = {d: [(e["start"], e["end"]) for e in f["evidence"]] for d, f in r.assessment["dimensions"].items()}
    for d, spans in r.gold_record["evidence"].items():
        for s in spans:
            hit = any(agreement.spans_match(tuple(s), p) for p in pred.get(d, []))
            pos_rows.append({"position": s[0] / max(1, r.chars), "found": hit})
pos = pd.DataFrame(pos_rows)
pos["part"] = pd.cut(pos.position, bins=[0, .2, .4, .6, .8, 1.0001], right=False,
                     labels=["0-20%", "20-40%", "40-60%", "60-80%", "80-100%"])
by_part = pos.groupby("part", observed=False).found.agg(["mean", "count"])
fig, ax = plt.subplots(figsize=(6, 3))
ax.bar(by_part.index.astype(str), by_part["mean"], color="#059669")
ax.set_ylim(0, 1); ax.set_ylabel("evidence recall"); ax.set_xlabel("position of the evidence in the packet")
plt.tight_layout(); plt.show()
by_part.round(3)"""),
md("""## The ceiling: calibrator against calibrator

On the packets two calibrators labelled independently, their agreement is the most an extractor can
be expected to reach. The extractor's agreement with the first calibrator on the same packets sits
beside it."""),
code("""double = df[df.raters.apply(len) >= 2]
if double.empty:
    print("No doubly-labelled packets in this split: no ceiling to show.")
else:
    names = list(double.raters.iloc[0])
    a_lv = [r[names[0]]["level"] for r in double.raters]
    b_lv = [r[names[1]]["level"] for r in double.raters]
    ceiling = {"exact accuracy": agreement.exact_accuracy(a_lv, b_lv, scale),
               "quadratic kappa": agreement.cohen_kappa(a_lv, b_lv, scale, weights="quadratic")}
    extractor = {"exact accuracy": agreement.exact_accuracy(a_lv, list(double.pred), scale),
                 "quadratic kappa": agreement.cohen_kappa(a_lv, list(double.pred), scale, weights="quadratic")}
    comp = pd.DataFrame({f"{names[0]} vs {names[1]}": ceiling, f"{names[0]} vs extractor": extractor})
    comp.plot.bar(rot=0, figsize=(6, 3), ylim=(0, 1), color=["#94a3b8", "#4f46e5"])
    plt.title(f"{len(double)} doubly-labelled packets"); plt.tight_layout(); plt.show()
    display(comp.round(3))"""),
md("""## Golden beside fresh: does the figure hold on packets written elsewhere?

The golden set was written by the hands that tuned the extractor; `datasets/fresh` was written and
labelled blind by writers who never saw its code. The gap between the two is the honest measure of
how well the extractor generalizes. Point `PACKET_EVAL_FRESH_LOG_DIR` at logs of
`inspect eval packet_eval/packet_extraction -T dataset=datasets/fresh -T split=test`."""),
code("""def overall_agreement(log_paths):
    s = samples_df(log_paths, full=True)
    gold, pred = [], []
    for _, row in s.iterrows():
        raters, labels = as_obj(row["metadata_raters"]), as_obj(row["metadata_labels"])
        gold.append(raters[labels[0]["calibrator"]]["level"])
        pred.append(as_obj(row["metadata_assessment"])["level"])
    return {"packets": len(gold),
            "exact accuracy": agreement.exact_accuracy(gold, pred, scale),
            "within one level": agreement.within_one_accuracy(gold, pred, scale),
            "quadratic kappa": agreement.cohen_kappa(gold, pred, scale, weights="quadratic")}

FRESH_DIR = Path(os.environ.get("PACKET_EVAL_FRESH_LOG_DIR", "../artifacts/eval-logs/baseline-fresh"))
fresh_logs = sorted(str(p) for p in FRESH_DIR.glob("*.eval"))
if not fresh_logs:
    print(f"No fresh-set logs in {FRESH_DIR}: only the golden figures are shown above.")
else:
    sides = pd.DataFrame({"golden": overall_agreement(logs), "fresh": overall_agreement(fresh_logs)})
    sides["gap"] = sides["golden"] - sides["fresh"]
    metrics = sides.drop(index="packets")
    metrics[["golden", "fresh"]].plot.bar(rot=0, figsize=(6.5, 3), ylim=(0, 1), color=["#94a3b8", "#dc2626"])
    plt.ylabel("agreement with the first calibrator"); plt.tight_layout(); plt.show()
    display(sides.round(3))"""),
md("## Cost per packet"),
code("""cost = df[["packet_id", "input_tokens", "cost_usd", "cached"]]
print(f"total ${cost.cost_usd.sum():.4f} for {len(cost)} packets; mean ${cost.cost_usd.mean():.5f}, "
      f"{cost.input_tokens.mean():.0f} input tokens per packet; {cost.cached.mean():.0%} served from cache")
if cost.cost_usd.sum() > 0:
    cost.cost_usd.plot.hist(bins=20, figsize=(6, 3)); plt.xlabel("USD per packet"); plt.tight_layout(); plt.show()
else:
    print("This extractor made no paid calls (the offline baseline costs nothing).")"""),
]
cells += [
md("""## Metamorphic probes: does the level move when nothing that matters changes?

Each probe changes one thing that must not matter (names, padding, confident adjectives, section
order, file format, injected instructions) and counts the packets whose levels stayed put. Point
`PACKET_EVAL_PROBE_LOG_DIR` at the logs of `inspect eval packet_eval/probes`."""),
code("""PROBE_DIR = Path(os.environ.get("PACKET_EVAL_PROBE_LOG_DIR", "../artifacts/eval-logs/probes"))
probe_logs = sorted(str(p) for p in PROBE_DIR.glob("*.eval"))
if not probe_logs:
    print(f"No probe logs in {PROBE_DIR}: run `inspect eval packet_eval/probes --model none` first.")
else:
    from inspect_ai.log import read_eval_log
    log = read_eval_log(probe_logs[-1], header_only=True)
    rows = {}
    for score in log.results.scores:
        for m in score.metrics.values():
            if m.group and m.group.startswith("probe_"):
                rows.setdefault(m.group.removeprefix("probe_"), {})[m.name] = m.value
    probes = pd.DataFrame(rows).T
    cols = [c for c in ("invariance", "invariance_ci_lo", "invariance_ci_hi", "up", "down", "impact_ratio_min")
            if c in probes.columns]
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.barh(probes.index, probes["invariance"], color="#0891b2")
    ax.axvline(0.95, color="crimson", ls="--", lw=1, label="gate floor 0.95")
    ax.set_xlim(0, 1.02); ax.set_xlabel("share of packets whose levels did not move"); ax.legend(loc="lower left")
    ax.invert_yaxis(); plt.tight_layout(); plt.show()
    display(probes[cols].round(3))"""),
]
nb["cells"] = cells
nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nbf.write(nb, str(__import__("pathlib").Path(__file__).with_name("calibration.ipynb")))
