"""The committee report (report.html) in real headless Chromium.

A baseline run over golden packets, with the committee's labels and their target
levels, writes the report; Chromium then checks the table, the heatmap, the
disagreements-first order, sorting by a header click, and one drill-down whose
highlights join back to exactly the evidence quotes. Saves screenshots
(artifacts/screenshots/, and docs/img/committee-report.png for the README).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest

from packet_eval.batch import run_batch
from packet_eval.schema import Assessment
from tests.browser import (
    GOLDEN,
    ROOT,
    chromium,
    join_highlights_js,
    new_page,
    shot,
    skip_without_chromium,
)

pytestmark = pytest.mark.browser

README_IMG = ROOT / "docs" / "img" / "committee-report.png"
N_PACKETS = 24
JOIN_HIGHLIGHTS = join_highlights_js("#sheet")

skip_without_chromium()


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, list[Assessment]]:
    tmp = tmp_path_factory.mktemp("committee")
    packets = sorted(p for p in (GOLDEN / "packets").iterdir()
                     if p.suffix == ".md" and ".clean" not in p.name)[:N_PACKETS]
    labels = [json.loads(x) for x in (GOLDEN / "labels.jsonl").read_text().splitlines() if x]
    targets = tmp / "targets.csv"
    wanted = {p.stem for p in packets}
    seen: set[str] = set()
    rows = ["packet_id,target_level"]
    for lb in labels:
        if lb["packet_id"] in wanted and lb["packet_id"] not in seen and lb["target_level"]:
            seen.add(lb["packet_id"])
            rows.append(f"{lb['packet_id']},{lb['target_level']}")
    targets.write_text("\n".join(rows) + "\n")
    s = asyncio.run(run_batch(packets, tmp / "run", model="baseline", targets_csv=targets,
                              labels_path=GOLDEN / "labels.jsonl", progress=False))
    assert s.exit_code == 0 and s.done == N_PACKETS
    results = [Assessment.model_validate_json(x) for x in
               (tmp / "run" / "assessments.jsonl").read_text().splitlines()]
    return tmp / "run" / "report.html", results


def test_the_committee_report_renders_sorts_and_drills_down(report):
    path, results = report
    by_id = {a.packet_id: a for a in results}
    with chromium() as browser, new_page(browser, height=1400) as page:
        errors: list[str] = page.errors  # script errors, and below failed requests
        page.on("requestfailed", lambda r: errors.append(f"request {r.url}"))
        page.goto(path.as_uri())

        # The table: one row per packet, one heatmap cell per packet and dimension.
        rows = page.locator("#candidates-table tbody tr")
        assert rows.count() == N_PACKETS
        heat = page.locator("#candidates-table td.heat")
        assert heat.count() == N_PACKETS * 7
        colours = page.evaluate("""() => {
          const out = {};
          for (const td of document.querySelectorAll('#candidates-table td.heat'))
            out[td.textContent.trim()] = getComputedStyle(td).backgroundColor;
          return out;
        }""")
        assert len(set(colours.values())) == len(colours) >= 3, colours  # colour by level
        assert page.locator("#level-distribution .fill").count() == 5

        # With labels, the disagreements come before the candidates.
        dis = page.locator("#disagreement-table tbody tr")
        assert dis.count() >= 1
        assert page.locator("#disagreements").bounding_box()["y"] < \
            page.locator("#candidates").bounding_box()["y"]
        assert page.locator("#agreement .metric").count() >= 4
        page.screenshot(path=str(shot("committee-report.png")))
        if os.environ.get("PACKET_EVAL_UPDATE_DOCS"):  # refresh the README image only when asked
            README_IMG.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot("committee-report.png"), README_IMG)

        # Sorting: click "Overall" and the level ranks ascend; click again and they descend.
        overall = page.locator("#candidates-table thead th", has_text="Overall")
        col = page.evaluate("(th) => Array.from(th.parentNode.children).indexOf(th)",
                            overall.element_handle())
        ranks_js = f"""() => Array.from(document.querySelectorAll('#candidates-table tbody tr'))
                         .map(r => Number(r.cells[{col}].dataset.sort))"""
        overall.click()
        asc = page.evaluate(ranks_js)
        assert asc == sorted(asc) and asc[0] < asc[-1]
        assert overall.get_attribute("aria-sort") == "ascending"
        overall.click()
        assert page.evaluate(ranks_js) == sorted(asc, reverse=True)

        # Drill-down: the row with the most evidence opens with every quote highlighted.
        pid = max(by_id, key=lambda k: by_id[k].evidence_count())
        page.locator(f'#candidates-table tbody tr[data-packet="{pid}"]').click()
        sheet = page.locator("#sheet")
        sheet.wait_for(state="visible")
        assert page.locator("#sheet .dd").get_attribute("data-packet") == pid
        a = by_id[pid]
        quotes = [e.quote for f in a.dimensions.values() for e in f.evidence]
        joined = page.evaluate(JOIN_HIGHLIGHTS)
        assert sorted(joined.values()) == sorted(quotes), "each highlight joins to its quote"
        assert page.locator("#sheet #calibrator").count() == 1
        page.locator("#sheet #packet mark.ev").first.click()
        pop = page.locator("#pop")
        pop.wait_for(state="visible")
        assert pop.locator(".level-badge").count() >= 1
        page.screenshot(path=str(shot("committee-report-drilldown.png")))
        page.keyboard.press("Escape")  # the evidence card first ...
        page.keyboard.press("Escape")  # ... then the sheet
        sheet.wait_for(state="hidden")
    assert errors == []
