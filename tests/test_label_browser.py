"""End to end: ``packet-eval label`` in a subprocess, driven by real headless Chromium.

A calibrator selects a sentence, adds it to a dimension, sets the levels and
saves; the page moves on; a fresh start resumes at the next packet and a reload
shows the saved label. The saved evidence must be an exact substring of the
canonical text and the dataset must pass ``packet-eval dataset check``. Saves
screenshots (artifacts/screenshots/, and docs/img/label-page.png when
PACKET_EVAL_UPDATE_DOCS is set).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from packet_eval import check_dataset, load_ladder, load_packet
from tests.browser import LAUNCH, ROOT, ServedApp, chromium, new_page, shot, skip_without_chromium
from tests.labels import first_sentence, make_dataset

pytestmark = pytest.mark.browser

README_IMG = ROOT / "docs" / "img" / "label-page.png"
LADDER = load_ladder()

skip_without_chromium()

# Select [start, end) of #packet's text, counting characters across its text nodes.
SELECT_JS = """([start, end]) => {
  const box = document.getElementById('packet');
  const walk = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  let pos = 0, node, a = null, b = null;
  while ((node = walk.nextNode())) {
    const n = node.textContent.length;
    if (!a && start < pos + n) a = [node, start - pos];
    if (!b && end <= pos + n) { b = [node, end - pos]; break; }
    pos += n;
  }
  const r = document.createRange();
  r.setStart(a[0], a[1]); r.setEnd(b[0], b[1]);
  const sel = document.getSelection(); sel.removeAllRanges(); sel.addRange(r);
}"""


@contextmanager
def labelling(browser: Any, root: Path, calibrator: str, home: Path) -> Iterator[tuple[str, Any]]:
    """``packet-eval label`` over ``root`` for ``calibrator``, and a page to drive it: (url, page)."""
    def command(port: int, env: dict[str, str]) -> list[str]:
        return [sys.executable, "-c", LAUNCH, "label", str(root / "packets"), "--calibrator",
                calibrator, "--out", str(root / "labels.jsonl"), "--port", str(port)]

    server = ServedApp(f"label-{calibrator}", command, home)
    try:
        with new_page(browser) as page:
            yield server.url, page
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def label_one(page, pid: str, text: str, dim: str, level: str) -> str:
    """Select the packet's first sentence, add it to ``dim`` at ``level``, the rest none."""
    start, end = first_sentence(text)
    page.click(f'.dim-head .pick[data-dim="{dim}"]')
    assert page.text_content("#cells-dim") == LADDER.dimension(dim).name
    page.evaluate(SELECT_JS, [start, end])
    page.wait_for_selector("#add-evidence:not([disabled])")
    assert page.inner_text("#selection").strip("“”") == text[start:end]
    page.click("#add-evidence")
    assert page.locator(f'#packet mark[data-dims~="{dim}"]').count() >= 1
    for d in LADDER.dimension_ids:
        if d != dim:
            page.select_option(f'select.level[data-dim="{d}"]', "none")
    # Choosing a level makes that dimension the one being labelled.
    page.select_option(f'select.level[data-dim="{dim}"]', level)
    # The ladder's cell for the chosen level is marked in the cell text shown.
    assert page.text_content("#cells li.chosen .lv") == level
    page.check("#flag-unsupported_claim")
    page.fill("#notes", f"{pid}: one junior sentence, nothing else")
    return text[start:end]


def test_label_select_save_resume_and_check(browser, tmp_path):
    root = make_dataset(tmp_path / "ds")
    dim = LADDER.dimension_ids[0]
    texts = {pid: load_packet(root / "packets" / f"{pid}.md").text for pid in ("pkt-001", "pkt-002")}
    with labelling(browser, root, "alice", tmp_path) as (url, page):
        page.goto(url + "/")
        assert page.url.endswith("/packet/pkt-001")
        assert page.inner_text("#progress-text") == "0 of 2 labelled"
        quote = label_one(page, "pkt-001", texts["pkt-001"], dim, "junior")
        page.evaluate("() => { scrollTo(0, 0); }")
        page.screenshot(path=str(shot("label-page.png")))
        page.screenshot(path=str(shot("label-page-full.png")), full_page=True)
        with page.expect_navigation():
            page.click("#save")
        assert page.url.endswith("/packet/pkt-002")
        assert page.inner_text("#progress-text") == "1 of 2 labelled"
        saved = [json.loads(ln) for ln in (root / "labels.jsonl").read_text().splitlines()]
        assert [r["packet_id"] for r in saved] == ["pkt-001"]
        assert saved[0]["dimensions"][dim]["evidence"] == [quote]
        assert quote in texts["pkt-001"]

    # A fresh start resumes at the first packet still unlabelled, and a reload shows the label.
    with labelling(browser, root, "alice", tmp_path) as (url, page):
        page.goto(url + "/")
        assert page.url.endswith("/packet/pkt-002")
        page.goto(url + "/packet/pkt-001")
        page.reload()
        assert page.input_value(f'select.level[data-dim="{dim}"]') == "junior"
        assert page.is_checked("#flag-unsupported_claim")
        assert page.input_value("#notes").startswith("pkt-001:")
        assert page.evaluate("() => [...document.querySelectorAll('#packet mark')]"
                             ".map(m => m.textContent).join('')") == quote
        page.goto(url + "/packet/pkt-002")
        label_one(page, "pkt-002", texts["pkt-002"], dim, "junior")
        page.click("#save")
        page.wait_for_function("() => document.getElementById('status').innerText.includes('All 2')")
        assert page.inner_text("#progress-text") == "2 of 2 labelled"

    labels = [json.loads(ln) for ln in (root / "labels.jsonl").read_text().splitlines()]
    assert sorted(r["packet_id"] for r in labels) == ["pkt-001", "pkt-002"]
    for r in labels:
        for d, v in r["dimensions"].items():
            assert all(q in texts[r["packet_id"]] for q in v["evidence"])
            assert (v["evidence"] != []) == (d == dim)
    assert [str(p) for p in check_dataset(root, LADDER)] == []
    check = subprocess.run([sys.executable, "-c", LAUNCH, "dataset", "check", str(root)],
                           capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stderr
    if os.environ.get("PACKET_EVAL_UPDATE_DOCS"):  # refresh the README image only when asked
        README_IMG.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot("label-page.png"), README_IMG)
