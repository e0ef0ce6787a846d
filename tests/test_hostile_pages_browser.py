"""No packet text can break a page: preview, serve and the committee report in real Chromium.

A dev golden packet gets ``<!--<script>`` and ``</script>`` written into one of its
evidence sentences, so the string lands in every embedded JSON data block. Each
page must keep every script it was rendered with (the DOM holds as many
``<script>`` elements as the file has tags, since no packet text adds one),
parse its data, highlight the hostile quote whole and open its pop-up.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from packet_eval import assess, render_html
from packet_eval.batch import run_batch
from packet_eval.ladder import load_ladder
from packet_eval.packet import load_packet
from tests.browser import GOLDEN, chromium, dev_packet, join_highlights_js, skip_without_chromium

pytestmark = pytest.mark.browser

HOSTILE = "<!--<script>"
CLOSE = "</script>"

skip_without_chromium()

# `server` and `page` (whose ``errors`` are the page's script errors) are fixtures of
# tests/conftest.py.

# Every <script> outside templates, plus those inside each template's content.
COUNT_SCRIPTS = """() => document.scripts.length + Array.from(document.querySelectorAll('template'))
    .reduce((n, t) => n + t.content.querySelectorAll('script').length, 0)"""


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> dict:
    """A packet whose first evidence sentence carries the hostile strings, and its Assessment."""
    src = dev_packet()
    text = src.read_text(encoding="utf-8")
    quote = next(e.quote for f in assess(src, model="baseline").dimensions.values()
                 for e in f.evidence)
    words = quote.split(" ")
    # In code spans: markdown shows them as typed (a bare "<!--" would hide the rest).
    hostile_quote = " ".join([words[0], f"`{HOSTILE}`", *words[1:3], f"`{CLOSE}`", *words[3:]])
    path = tmp_path_factory.mktemp("hostile") / "hostile-packet.md"
    path.write_text(text.replace(quote, hostile_quote, 1), encoding="utf-8")
    a = assess(path, model="baseline")
    quotes = [e.quote for f in a.dimensions.values() for e in f.evidence]
    assert any(HOSTILE in q and CLOSE in q for q in quotes), "the hostile text must be evidence"
    return {"path": path, "a": a, "quotes": quotes, "src": src}


@pytest.fixture(scope="module")
def report(hostile, tmp_path_factory) -> Path:
    others = sorted(p for p in (GOLDEN / "packets").glob("*.md")
                    if ".clean" not in p.name and p != hostile["src"])[:2]
    out = tmp_path_factory.mktemp("report") / "run"
    s = asyncio.run(run_batch([hostile["path"], *others], out, model="baseline", progress=False))
    assert s.exit_code == 0 and s.done == 3
    return out / "report.html"


@pytest.fixture(scope="module")
def browser(hostile, report):
    # After every asyncio.run above: chromium() then runs Playwright's own loop in this thread.
    with chromium() as b:
        yield b


def _check_result_view(page, scope: str, quotes: list[str]) -> None:
    """The data block parses, every quote is highlighted whole, the hostile one opens its card."""
    data = page.evaluate("() => JSON.parse(document.getElementById('evidence-data').textContent)")
    assert any(HOSTILE in json.dumps(v) for v in data.values())
    joined = page.evaluate(join_highlights_js(scope))
    assert sorted(joined.values()) == sorted(quotes)
    key = next(k for k, v in joined.items() if HOSTILE in v)
    page.locator(f'{scope} #packet mark[data-ev="{key}"]').first.click()
    page.wait_for_selector("#pop:not([hidden])")
    assert page.locator("#pop .level-badge").count() >= 1


def test_preview_keeps_its_scripts_and_data(hostile, page, tmp_path):
    html = render_html(hostile["a"], load_ladder(), load_packet(hostile["path"]).text)
    assert html.count("<script") == 2  # the data block and the page script
    out = tmp_path / "preview.html"
    out.write_text(html, encoding="utf-8")
    page.goto(out.as_uri())
    assert page.evaluate(COUNT_SCRIPTS) == 2
    _check_result_view(page, "", hostile["quotes"])
    assert page.errors == []


def test_serve_result_keeps_its_scripts_and_popups(server, hostile, page):
    page.goto(server + "/")
    scripts_before = page.evaluate(COUNT_SCRIPTS)
    page.set_input_files("#file", str(hostile["path"]))
    page.select_option("#model", "baseline")
    page.click("#submit")
    page.wait_for_selector("#summary", timeout=60_000)
    # The swapped-in result brings its data block; the page script is still the one that runs.
    assert page.locator("#evidence-data").count() == 1
    assert page.evaluate(COUNT_SCRIPTS) == scripts_before + 1
    _check_result_view(page, "", hostile["quotes"])
    assert page.errors == []


def test_committee_report_keeps_every_drilldown_and_script(hostile, report, page):
    raw = report.read_text(encoding="utf-8")
    page.goto(report.as_uri())
    assert page.evaluate(COUNT_SCRIPTS) == raw.count("<script") >= 5
    rows = page.locator("#candidates-table tbody tr")
    assert rows.count() == 3
    assert page.locator("template[id^='dd-']").count() == 3
    for i in range(3):  # every drill-down opens and parses its data
        rows.nth(i).click()
        page.wait_for_selector("#sheet:not([hidden])")
        page.evaluate("() => JSON.parse(document.querySelector('#sheet #evidence-data').textContent)")
        page.keyboard.press("Escape")
        page.wait_for_selector("#sheet", state="hidden")
    page.locator('#candidates-table tbody tr[data-packet="hostile-packet"]').click()
    page.wait_for_selector("#sheet:not([hidden])")
    _check_result_view(page, "#sheet", hostile["quotes"])
    assert page.errors == []
