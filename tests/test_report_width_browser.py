"""The committee report at 1,400 px in real headless Chromium: nothing clipped.

The widest table the report makes (targets that vary, the calibrator and delta columns of
a run with labels, flag chips) must fit its container without a horizontal scrollbar, every
column's right edge inside the viewport; no chart label, bar count or dimension header may
be cut (its text wider than its box, or its box outside its card).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from packet_eval.batch import run_batch
from tests.browser import GOLDEN, chromium, new_page, skip_without_chromium

pytestmark = pytest.mark.browser

WIDTH = 1400

skip_without_chromium()

# Every element whose text must show whole: chart labels and counts, table headers and cells.
CUT_JS = """() => {
  const cut = [];
  const check = (el, box) => {
    const r = el.getBoundingClientRect();
    const over = el.scrollWidth > el.clientWidth + 1;
    const out = box && (r.left < box.left - 1 || r.right > box.right + 1);
    if (over || out) cut.push({text: el.textContent.trim().slice(0, 40), cls: el.className,
                               scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
                               right: Math.round(r.right), boxRight: box && Math.round(box.right)});
  };
  for (const card of document.querySelectorAll('.card')) {
    const box = card.getBoundingClientRect();
    for (const el of card.querySelectorAll('.bars .lab, .bars .num')) check(el, box);
  }
  for (const el of document.querySelectorAll('#candidates-table th')) check(el, null);
  return cut;
}"""

TABLE_JS = """() => {
  const wrap = document.querySelector('#candidates .tablewrap');
  const table = document.querySelector('#candidates-table');
  const ths = Array.from(table.querySelectorAll('thead th'));
  const w = wrap.getBoundingClientRect();
  return {scrollWidth: wrap.scrollWidth, clientWidth: wrap.clientWidth,
          wrapRight: w.right, viewport: document.documentElement.clientWidth,
          pageScrollWidth: document.documentElement.scrollWidth,
          columns: ths.map(th => th.textContent.trim()),
          rights: ths.map(th => th.getBoundingClientRect().right)};
}"""


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A labelled baseline run over golden packets with varied targets (every column shown)."""
    tmp = tmp_path_factory.mktemp("report-width")
    packets = sorted(p for p in (GOLDEN / "packets").iterdir()
                     if p.suffix == ".md" and ".clean" not in p.name)[:20]
    levels = ["mid", "senior", "staff"]
    targets = tmp / "targets.csv"
    targets.write_text("packet_id,target_level\n" + "".join(
        f"{p.stem},{levels[i % 3]}\n" for i, p in enumerate(packets)))
    s = asyncio.run(run_batch(packets, tmp / "run", model="baseline", targets_csv=targets,
                              labels_path=GOLDEN / "labels.jsonl", progress=False))
    assert s.exit_code == 0 and s.done == len(packets)
    flagged = [json.loads(x) for x in (tmp / "run" / "assessments.jsonl").read_text().splitlines()]
    assert any(len(a["flags"]) >= 2 for a in flagged), "a row with several flag chips"
    return tmp / "run" / "report.html"


def test_at_1400_px_the_candidates_table_and_the_charts_are_not_clipped(report):
    with chromium() as browser, new_page(browser, width=WIDTH) as page:
        page.goto(report.as_uri())
        t = page.evaluate(TABLE_JS)
        # The widest variant: target, seven dimensions, calibrator, delta, flags, evidence, cost.
        assert t["columns"][-3:] == ["Flags", "Evidence", "Cost"] and "Calibrator" in t["columns"]
        assert "Target" in t["columns"], t["columns"]
        assert t["scrollWidth"] <= t["clientWidth"], t  # no horizontal scrollbar on the table
        assert max(t["rights"]) <= min(t["wrapRight"], t["viewport"]) + 1, t
        assert t["pageScrollWidth"] <= t["viewport"], t  # nor on the page
        cut = page.evaluate(CUT_JS)
        assert cut == [], cut
        page.screenshot(path=str(report.parent / "report-1400.png"), full_page=True)
