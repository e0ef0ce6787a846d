"""End to end: ``packet-eval serve`` in a subprocess, driven by real headless Chromium.

Uploads a dev-split golden packet and checks what a reader sees against the
Assessment for the same file: one highlight per evidence item whose pieces
join to its quote, and exactly the expected gap dimensions. Saves screenshots
(artifacts/screenshots/, and docs/img/serve-result.png for the README).
"""

from __future__ import annotations

import os
import shutil

import pytest

from packet_eval import assess
from packet_eval.ladder import load_ladder
from packet_eval.packet import load_packet
from packet_eval.render.highlight import items_of
from tests.browser import ROOT, chromium, dev_packet, join_highlights_js, shot, skip_without_chromium

pytestmark = pytest.mark.browser

README_IMG = ROOT / "docs" / "img" / "serve-result.png"
JOIN_HIGHLIGHTS = join_highlights_js("")

skip_without_chromium()

# `server` and `page` are fixtures of tests/conftest.py.


@pytest.fixture(scope="module")
def case():
    """The packet, a target one level above what it shows, and its Assessment at that target."""
    path = dev_packet()
    ladder = load_ladder()
    demonstrated = assess(path, model="baseline").level
    assert demonstrated != ladder.levels[-1], "need a packet below the top level"
    target = ladder.scale[ladder.rank[demonstrated] + 1]
    return {"path": path, "ladder": ladder, "target": target,
            "a": assess(path, model="baseline", target_level=target),
            "senior": assess(path, model="baseline", target_level="senior")}


@pytest.fixture(scope="module")
def browser(case):
    # Depends on `case` so every assess() (asyncio.run) happens before chromium() starts.
    with chromium() as b:
        yield b


def test_upload_shows_every_evidence_span_and_the_gaps(server, case, page):
    path, ladder, target, a = case["path"], case["ladder"], case["target"], case["a"]
    rank = ladder.rank
    expected_gaps = {d for d, f in a.dimensions.items() if rank[f.level] < rank[target]}
    assert expected_gaps and expected_gaps == {g.dimension for g in a.gaps}

    page.goto(server + "/")
    page.set_input_files("#file", str(path))
    page.select_option("#target_level", target)
    page.select_option("#model", "baseline")
    # Hold the response back to see the progress state the engineer sees on a slow model.
    held = []

    def hold(route):
        held.append(route)

    page.route("**/assess", hold)
    page.click("#submit")
    page.wait_for_selector("#progress:not([hidden])")
    assert page.is_disabled("#submit")
    assert "Uploading" in page.inner_text("#progress") or "Reading" in page.inner_text("#progress")
    while not held:
        page.wait_for_timeout(20)
    page.screenshot(path=str(shot("serve-progress.png")))
    held[0].continue_()
    page.unroute("**/assess", hold)
    page.wait_for_selector("#summary", timeout=60_000)
    assert page.url == server + "/", "the result should be swapped in, not navigated to"

    joined = page.evaluate(JOIN_HIGHLIGHTS)
    text = load_packet(path).text
    expected = {i.key: text[i.start:i.end] for i in items_of(a) if i.kind == "evidence"}
    assert len(joined) == a.evidence_count() == len(expected)
    assert joined == expected
    assert sorted(joined.values()) == sorted(ev.quote for f in a.dimensions.values()
                                             for ev in f.evidence)

    gaps = page.eval_on_selector_all("#gaps li[data-dimension]",
                                     "els => els.map(e => e.dataset.dimension)")
    assert sorted(gaps) == sorted(expected_gaps)
    note = page.inner_text("#privacy-note")
    assert "baseline" in note and "Nothing left this machine" in note
    assert page.inner_text("#overall-level") == a.level

    # Clicking a hygiene item scrolls to its span, marks it and explains it.
    if a.flags:
        page.click("#hygiene button.jump >> nth=0")
        page.wait_for_selector("#pop:not([hidden])")
        assert page.locator('#packet mark.sel[data-fl="fl-0"]').count() >= 1
        assert a.flags[0].rationale in page.inner_text("#pop")
        page.keyboard.press("Escape")
    # Screenshots from the top of the page, with one evidence span's details open.
    page.keyboard.press("Escape")
    page.evaluate("() => { scrollTo(0, 0); document.getElementById('packet').scrollTop = 0; }")
    page.screenshot(path=str(shot("serve-result-full.png")), full_page=True)
    first = page.locator("#packet mark[data-ev] >> nth=0")
    # Bring the span near the top of the packet box so its details open below it.
    first.evaluate("m => { document.getElementById('packet').scrollTop = m.offsetTop - 60; }")
    first.click()
    page.wait_for_selector("#pop:not([hidden])")
    key = first.get_attribute("data-ev")
    dim = next(i.dimension for i in items_of(a) if i.key == key)
    assert ladder.dimension(dim).name in page.inner_text("#pop")
    result = shot("serve-result.png")
    page.screenshot(path=str(result))
    if os.environ.get("PACKET_EVAL_UPDATE_DOCS"):  # refresh the README image only when asked
        README_IMG.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(result, README_IMG)


def test_bad_uploads_show_an_in_page_error(server, page, tmp_path):
    page.goto(server + "/")
    binary = tmp_path / "scan.md"
    binary.write_bytes(bytes(range(256)) * 16)
    page.set_input_files("#file", str(binary))
    page.click("#submit")
    page.wait_for_selector("#form-error:not([hidden])")
    message = page.inner_text("#form-error")
    assert "Could not read this packet" in message and "scan.md" in message
    assert "binary" in message
    assert "Traceback" not in page.content()
    page.screenshot(path=str(shot("serve-error.png")))

    big = tmp_path / "huge.md"
    big.write_bytes(b"I built it. " * 200_000)
    page.set_input_files("#file", str(big))
    page.click("#submit")
    page.wait_for_function(
        "() => document.getElementById('form-error').innerText.includes('File too large')")

    page.set_input_files("#file", [])
    page.fill("#text", "")
    page.click("#submit")
    page.wait_for_function(
        "() => document.getElementById('form-error').innerText.includes('Nothing to assess')")


def test_the_form_works_without_javascript(server, case, browser):
    path, a = case["path"], case["senior"]
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(server + "/")
        page.set_input_files("#file", str(path))
        page.select_option("#target_level", "senior")
        with page.expect_navigation():
            page.click("#submit")
        assert page.url == server + "/assess"
        ids = set(page.eval_on_selector_all("#packet mark[data-ev]",
                                            "els => els.map(e => e.dataset.ev)"))
        assert len(ids) == a.evidence_count()
    finally:
        context.close()

