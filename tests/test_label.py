"""``packet-eval label`` without a browser: the session's saves, the app's rules, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from packet_eval import check_dataset, load_ladder
from packet_eval.cli import app as cli
from packet_eval.serve.labelling import LabelRejected, create_label_app, open_session
from tests.labels import LADDER, first_sentence, label_first_sentence, make_dataset, submission

ROOT = Path(__file__).resolve().parent.parent


def test_saves_are_exact_spans_resume_and_pass_dataset_check(tmp_path):
    root = make_dataset(tmp_path / "ds")
    out = root / "labels.jsonl"
    s = open_session(root, "alice", out, LADDER)
    assert s.progress() == (0, 2) and s.next_unlabelled() == "pkt-001"
    text = s.packet("pkt-001").text
    start, end = first_sentence(text)
    dim = LADDER.dimension_ids[0]
    # Whitespace round a selection is trimmed, so the quote is the sentence itself.
    saved = s.save("pkt-001", submission(dim, [(start - 1, end + 1)]))
    assert saved["dimensions"][dim]["evidence"] == [text[start:end]]
    again = open_session(root, "alice", out, LADDER)
    assert again.progress() == (1, 2) and again.next_unlabelled() == "pkt-002"
    # Relabelling rewrites the one line instead of adding a second.
    again.save("pkt-001", submission(dim, [(start, end)], level="mid"))
    assert len(out.read_text().splitlines()) == 1
    assert check_dataset(root, LADDER) != []  # pkt-002 still unlabelled
    text2 = again.packet("pkt-002").text
    a, b = first_sentence(text2)
    again.save("pkt-002", submission(dim, [(a, b)]))
    assert text2[a:b] in out.read_text()
    assert [str(p) for p in check_dataset(root, LADDER)] == []


def test_other_calibrators_lines_are_kept_and_hidden_by_blind(tmp_path):
    root = make_dataset(tmp_path / "ds")
    out = root / "labels.jsonl"
    bob, (start, end) = label_first_sentence(root, "bob")
    bob_line = out.read_text()
    alice = open_session(root, "alice", out, LADDER)
    assert [o["calibrator"] for o in alice.others("pkt-001")] == ["bob"]
    assert open_session(root, "alice", out, LADDER, blind=True).others("pkt-001") == []
    alice.save("pkt-001", submission(LADDER.dimension_ids[0], [(start, end)]))
    assert out.read_text().startswith(bob_line)
    assert alice.progress() == (1, 2) and bob.progress() == (1, 2)


def test_bad_labels_are_refused_and_the_file_is_untouched(tmp_path):
    root = make_dataset(tmp_path / "ds", ("pkt-018",))
    out = root / "labels.jsonl"
    s = open_session(root, "alice", out, LADDER)
    packet = s.packet("pkt-018")
    assert packet.hidden, "pkt-018 should carry a hidden comment"
    h = packet.hidden[0]
    dim = LADDER.dimension_ids[0]
    with pytest.raises(LabelRejected, match="hidden text"):
        s.save("pkt-018", submission(dim, [(h.start, h.end)]))
    with pytest.raises(LabelRejected, match="outside the packet"):
        s.save("pkt-018", submission(dim, [(0, len(packet.text) + 5)]))
    with pytest.raises(LabelRejected, match="no evidence"):
        s.save("pkt-018", submission(dim, []))
    assert not out.exists()
    assert list(out.parent.glob(".labels.jsonl.*")) == []  # no temp file left behind


def test_app_refuses_cross_site_saves_and_foreign_hosts(tmp_path):
    root = make_dataset(tmp_path / "ds")
    s = open_session(root, "alice", root / "labels.jsonl", LADDER)
    client = TestClient(create_label_app(s), base_url="http://127.0.0.1:8000")
    page = client.get("/", follow_redirects=True)
    assert page.status_code == 200 and "0 of 2 labelled" in page.text
    assert "nonce-" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    start, end = first_sentence(s.packet("pkt-001").text)
    body = submission(LADDER.dimension_ids[0], [(start, end)])
    evil = client.post("/packet/pkt-001", json=body, headers={"origin": "http://evil.example"})
    assert evil.status_code == 403
    form = client.post("/packet/pkt-001", data={"level": "junior"})
    assert form.status_code == 415
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400
    assert not (root / "labels.jsonl").exists()
    ok = client.post("/packet/pkt-001", json=body, headers={"origin": "http://127.0.0.1:8000"})
    assert ok.status_code == 200 and ok.json()["done"] == 1
    assert ok.json()["next"] == "/packet/pkt-002"


def test_packet_text_is_escaped_in_the_page(tmp_path):
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "x.md").write_text("I built </script><script>alert(1)</script> the eval suite.\n")
    s = open_session(folder, "alice", tmp_path / "labels.jsonl", LADDER)
    html = TestClient(create_label_app(s), base_url="http://127.0.0.1").get("/packet/x").text
    assert "<script>alert(1)" not in html
    assert html.count("<script") == 2  # the data block and the page script only


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["label", *args])
    return result.exit_code, result.output


@pytest.mark.parametrize("case", ["missing", "empty", "unwritable", "other-ladder", "malformed",
                                  "not-utf8"])
def test_bad_input_is_one_line(tmp_path, case):
    root = make_dataset(tmp_path / "ds")
    out = tmp_path / "labels.jsonl"
    packets, expect = str(root), ""
    if case == "missing":
        packets, expect = str(tmp_path / "nope"), "packets directory not found"
    elif case == "empty":
        (tmp_path / "empty").mkdir()
        packets, expect = str(tmp_path / "empty"), "no packet files here"
    elif case == "unwritable":
        out, expect = tmp_path / "no-such-folder" / "labels.jsonl", "cannot write labels here"
    elif case == "other-ladder":
        ml = load_ladder(ROOT / "packet_eval" / "ladders" / "ml-craft.yaml")
        s = open_session(root, "bob", out, ml)
        start, end = first_sentence(s.packet("pkt-001").text)
        dims = {d: {"level": "none", "evidence": []} for d in ml.dimension_ids}
        dims[ml.dimension_ids[0]] = {"level": ml.levels[0], "evidence": [{"start": start, "end": end}]}
        s.save("pkt-001", {"level": ml.overall_level({d: v["level"] for d, v in dims.items()}),
                           "flags": [], "notes": "", "dimensions": dims})
        expect = "labels are for another ladder"
    elif case == "malformed":
        out.write_text('{"packet_id": "pkt-001"\n')
        expect = "invalid JSON"
    elif case == "not-utf8":
        out.write_bytes(b"\xff\xfe{}\n")
        expect = "not UTF-8"
    code, output = run(packets, "--calibrator", "alice", "--out", str(out))
    assert code != 0
    lines = [ln for ln in output.splitlines() if ln.strip()]
    assert len(lines) == 1 and expect in lines[0], output
    assert "Traceback" not in output


def test_blind_page_carries_no_other_label(tmp_path):
    root = make_dataset(tmp_path / "ds")
    out = root / "labels.jsonl"
    label_first_sentence(root, "bob-the-other")
    pages = {}
    for blind in (False, True):
        s = open_session(root, "alice", out, LADDER, blind=blind)
        client = TestClient(create_label_app(s), base_url="http://127.0.0.1")
        pages[blind] = client.get("/packet/pkt-001").text
    assert "bob-the-other" in pages[False] and 'id="others-card"' in pages[False]
    assert "bob-the-other" not in pages[True] and 'id="others-card"' not in pages[True]
