"""Fuzzed inputs: every failure is a clear PacketEvalError, never a traceback.

The default profile keeps CI short; `HYPOTHESIS_PROFILE=long uv run pytest -m slow_fuzz`
runs the same properties far longer.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from packet_eval.dataset import parse_labels
from packet_eval.errors import PacketEvalError
from packet_eval.ladder import load_ladder, parse_ladder
from packet_eval.packet import load_packet

ROOT = Path(__file__).resolve().parent.parent
LADDER_BYTES = (ROOT / "packet_eval" / "ladders" / "ai-engineering.yaml").read_bytes()
LADDER = load_ladder()


def _load_or_clear_error(path: Path) -> None:
    try:
        packet = load_packet(path)
    except PacketEvalError as exc:
        message = str(exc)
        assert str(path) in message and "\n" not in message
        return
    assert packet.text.strip() and packet.sha256


@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".md", ".txt", ".html", ".docx", ".pdf"]))
def test_random_bytes_never_crash_the_loader(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"packet{suffix}"
    path.write_bytes(data)
    _load_or_clear_error(path)


def _docx_bytes() -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("Packet", level=1)
    for i in range(30):
        d.add_paragraph(f"I built the eval harness number {i} that the team now maintains.")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _pdf_bytes() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    for i in range(40):
        pdf.multi_cell(0, 6, f"I traced failure {i} to a stale index shard and fixed it.",
                       new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


DOCX, PDF = _docx_bytes(), _pdf_bytes()


@given(cut=st.integers(min_value=0, max_value=len(DOCX)), flip=st.integers(min_value=0, max_value=255))
def test_truncated_or_corrupted_docx(tmp_path_factory, cut, flip):
    data = bytearray(DOCX[:cut])
    if data:
        data[len(data) // 2] ^= flip
    path = tmp_path_factory.mktemp("fuzz") / "packet.docx"
    path.write_bytes(bytes(data))
    _load_or_clear_error(path)


@given(cut=st.integers(min_value=0, max_value=len(PDF)), flip=st.integers(min_value=0, max_value=255))
def test_truncated_or_corrupted_pdf(tmp_path_factory, cut, flip):
    data = bytearray(PDF[:cut])
    if data:
        data[len(data) // 2] ^= flip
    path = tmp_path_factory.mktemp("fuzz") / "packet.pdf"
    path.write_bytes(bytes(data))
    _load_or_clear_error(path)


@given(depth=st.integers(min_value=1, max_value=5000), tag=st.sampled_from(["div", "span", "li", "b"]))
def test_deeply_nested_html(tmp_path_factory, depth, tag):
    html = f"<{tag}>" * depth + "I built the eval harness the team now maintains." + f"</{tag}>" * depth
    path = tmp_path_factory.mktemp("fuzz") / "packet.html"
    path.write_text(html, encoding="utf-8")
    _load_or_clear_error(path)


def _mutate(obj, path, value):
    """Replace the node at ``path`` (a list of keys/indices) with ``value``."""
    node = obj
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return obj


def _paths(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


LADDER_PATHS = list(_paths(yaml.safe_load(LADDER_BYTES)))
JUNK = st.one_of(st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3),
                 st.dictionaries(st.text(max_size=5), st.integers(), max_size=2))


@given(index=st.integers(min_value=0, max_value=len(LADDER_PATHS) - 1), junk=JUNK)
def test_mutated_ladders_fail_clearly(index, junk):
    data = _mutate(yaml.safe_load(LADDER_BYTES), LADDER_PATHS[index], junk)
    raw = yaml.safe_dump(data, allow_unicode=True).encode()
    try:
        ladder = parse_ladder(raw, "mutated.yaml")
    except PacketEvalError as exc:
        assert str(exc).startswith("mutated.yaml:") and "\n" not in str(exc)
        return
    assert ladder.overall_level({}) in ladder.scale


@given(raw=st.binary(max_size=2000))
def test_random_ladder_bytes_fail_clearly(raw):
    try:
        parse_ladder(raw, "random.yaml")
    except PacketEvalError as exc:
        assert str(exc).startswith("random.yaml:")


GOOD_LABEL = {"packet_id": "p1", "calibrator": "c", "target_level": "senior", "level": "junior",
              "dimensions": {d: {"level": "none", "evidence": []} for d in LADDER.dimension_ids},
              "flags": [], "notes": "n"}
GOOD_LABEL["dimensions"]["eval_design"] = {"level": "junior", "evidence": ["Added cases to the suite."]}
LABEL_PATHS = list(_paths(GOOD_LABEL))


@given(index=st.integers(min_value=0, max_value=len(LABEL_PATHS) - 1), junk=JUNK,
       garbage=st.text(max_size=50))
def test_mutated_labels_report_file_and_line(tmp_path_factory, index, junk, garbage):
    bad = _mutate(json.loads(json.dumps(GOOD_LABEL)), LABEL_PATHS[index], junk)
    path = tmp_path_factory.mktemp("fuzz") / "labels.jsonl"
    path.write_text(json.dumps(GOOD_LABEL) + "\n" + json.dumps(bad) + "\n" + garbage + "\n",
                    encoding="utf-8")
    parsed = parse_labels(path, LADDER)
    for problem in parsed.problems:
        assert problem.file == str(path) and "\n" not in problem.message
    assert parsed.labels and parsed.labels[0].packet_id == "p1"


@pytest.mark.slow_fuzz
@settings(max_examples=2000)
@given(data=st.binary(min_size=1, max_size=65536))
def test_long_random_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "packet.pdf"
    path.write_bytes(b"%PDF-1.7\n" + data)
    _load_or_clear_error(path)
