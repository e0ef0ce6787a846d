"""The ladder: the default YAML's contents, the overall-level rule, and malformed ladders."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from packet_eval.cli import app
from packet_eval.errors import LadderError
from packet_eval.ladder import Ladder, load_ladder, parse_ladder

ROOT = Path(__file__).resolve().parent.parent
LADDER_PATH = ROOT / "packet_eval" / "ladders" / "ai-engineering.yaml"
LADDER_BYTES = LADDER_PATH.read_bytes()
LADDER = load_ladder()

DIMENSIONS = [
    "eval_design", "retrieval_quality", "context_engineering", "agent_architecture",
    "problem_framing", "production_diagnosis", "governance_leverage",
]
CORE = ["eval_design", "problem_framing", "production_diagnosis", "governance_leverage"]
NON_CORE = ["retrieval_quality", "context_engineering", "agent_architecture"]
FLAGS = [
    "velocity_proxy", "complexity_proxy", "benchmark_proxy", "team_attribution",
    "unsupported_claim", "prompt_injection",
]


# --- the default ladder ---------------------------------------------------------------


def test_default_ladder_levels_and_scale():
    assert LADDER.levels == ["junior", "mid", "senior", "staff"]
    assert LADDER.scale == ["none", "junior", "mid", "senior", "staff"]
    assert [LADDER.rank[lv] for lv in LADDER.scale] == [0, 1, 2, 3, 4]


def test_default_ladder_has_exactly_the_seven_dimensions():
    assert LADDER.dimension_ids == DIMENSIONS
    assert set(LADDER.level_rule.core_dimensions) == set(CORE)


def test_every_cell_has_behaviour_and_evidence():
    for dim in LADDER.dimensions:
        assert dim.name.strip(), dim.id
        assert set(dim.cells) == set(LADDER.levels), dim.id
        for level in LADDER.levels:
            cell = dim.cells[level]
            assert cell.behaviour.strip(), (dim.id, level)
            assert len(cell.evidence) >= 1, (dim.id, level)
            assert all(e.strip() for e in cell.evidence), (dim.id, level)


def test_default_ladder_flags_have_definitions():
    assert LADDER.flag_ids == FLAGS
    for flag in LADDER.flags:
        assert flag.name.strip() and flag.definition.strip(), flag.id
    assert LADDER.flag("prompt_injection").detector == "injection"
    with pytest.raises(KeyError):
        LADDER.flag("no_such_flag")
    with pytest.raises(KeyError):
        LADDER.dimension("no_such_dimension")


def test_default_ladder_identity():
    assert LADDER.id == "ai-engineering"
    assert LADDER.version == "1.0.0"
    assert re.fullmatch(r"[0-9a-f]{64}", LADDER.sha256)
    assert LADDER.sha256 == hashlib.sha256(LADDER_BYTES).hexdigest()
    assert LADDER.ref() == {"id": "ai-engineering", "version": "1.0.0", "sha256": LADDER.sha256}


def test_sha256_follows_the_file_bytes(tmp_path):
    path = tmp_path / "ladder.yaml"
    path.write_bytes(LADDER_BYTES)
    same = load_ladder(path)
    assert same.sha256 == LADDER.sha256
    assert same.source == str(path)
    # A comment changes nothing semantically but does change the bytes, hence the hash.
    changed_bytes = LADDER_BYTES + b"\n# an edit\n"
    path.write_bytes(changed_bytes)
    changed = load_ladder(path)
    assert changed.sha256 != LADDER.sha256
    assert changed.sha256 == hashlib.sha256(changed_bytes).hexdigest()
    assert changed.dimension_ids == LADDER.dimension_ids


# --- the overall-level rule -----------------------------------------------------------


OVERALL_CASES = [
    ("nothing at all", {}, "none"),
    ("everything explicitly none", dict.fromkeys(DIMENSIONS, "none"), "none"),
    ("one non-core at junior", {"retrieval_quality": "junior"}, "junior"),
    ("one core at senior only", {"eval_design": "senior"}, "junior"),
    ("one core at staff only", {"governance_leverage": "staff"}, "junior"),
    ("two non-core at mid", {"retrieval_quality": "mid", "agent_architecture": "mid"}, "junior"),
    ("two non-core at staff", {"retrieval_quality": "staff", "agent_architecture": "staff"},
     "junior"),
    ("one core + one non-core at mid", {"eval_design": "mid", "retrieval_quality": "mid"}, "mid"),
    ("two core at mid", {"eval_design": "mid", "problem_framing": "mid"}, "mid"),
    ("core mid + non-core junior", {"eval_design": "mid", "retrieval_quality": "junior"},
     "junior"),
    ("two at senior incl core", {"eval_design": "senior", "retrieval_quality": "senior"}, "mid"),
    ("three at senior incl a core",
     {"eval_design": "senior", "retrieval_quality": "senior", "agent_architecture": "senior"},
     "senior"),
    ("three non-core at senior, core at mid",
     {"retrieval_quality": "senior", "context_engineering": "senior",
      "agent_architecture": "senior", "eval_design": "mid"}, "mid"),
    ("three non-core at senior, no core",
     {"retrieval_quality": "senior", "context_engineering": "senior",
      "agent_architecture": "senior"}, "junior"),
    ("two at staff incl core + one senior",
     {"eval_design": "staff", "retrieval_quality": "staff", "agent_architecture": "senior"},
     "staff"),
    ("two at staff incl core but no third at senior",
     {"eval_design": "staff", "retrieval_quality": "staff", "agent_architecture": "mid"}, "mid"),
    ("two non-core at staff + core at senior",
     {"retrieval_quality": "staff", "agent_architecture": "staff", "eval_design": "senior"},
     "senior"),
    ("one core at staff + two at senior",
     {"eval_design": "staff", "retrieval_quality": "senior", "agent_architecture": "senior"},
     "senior"),
    ("everything at staff", dict.fromkeys(DIMENSIONS, "staff"), "staff"),
    ("everything at mid", dict.fromkeys(DIMENSIONS, "mid"), "mid"),
]


@pytest.mark.parametrize(("levels", "expected"), [c[1:] for c in OVERALL_CASES],
                         ids=[c[0] for c in OVERALL_CASES])
def test_overall_level_boundaries(levels, expected):
    assert LADDER.overall_level(levels) == expected


def test_overall_level_missing_dimensions_count_as_none():
    explicit = dict.fromkeys(DIMENSIONS, "none")
    explicit.update(eval_design="senior", retrieval_quality="senior", agent_architecture="senior")
    sparse = {"eval_design": "senior", "retrieval_quality": "senior",
              "agent_architecture": "senior"}
    assert LADDER.overall_level(sparse) == LADDER.overall_level(explicit) == "senior"
    # Dropping one of the three drops the result to mid: the missing one is none, not senior.
    del sparse["agent_architecture"]
    assert LADDER.overall_level(sparse) == "mid"


@pytest.mark.parametrize("bad", ["principal", "Senior", "", "NONE"])
def test_overall_level_rejects_unknown_levels(bad):
    with pytest.raises(ValueError, match="unknown level"):
        LADDER.overall_level({"eval_design": "senior", "retrieval_quality": bad})


def test_overall_level_is_pure():
    levels = {"eval_design": "staff", "retrieval_quality": "staff", "agent_architecture": "senior"}
    before = dict(levels)
    assert LADDER.overall_level(levels) == LADDER.overall_level(levels) == "staff"
    assert levels == before


_level_maps = st.dictionaries(st.sampled_from(DIMENSIONS), st.sampled_from(LADDER.scale))


@settings(max_examples=200, deadline=None)
@given(levels=_level_maps, dim=st.sampled_from(DIMENSIONS), data=st.data())
def test_raising_one_dimension_never_lowers_the_overall_level(levels, dim, data):
    rank = LADDER.rank
    before = LADDER.overall_level(levels)
    current = levels.get(dim, "none")
    higher = data.draw(st.sampled_from(LADDER.scale[rank[current]:]), label="raised to")
    raised = {**levels, dim: higher}
    after = LADDER.overall_level(raised)
    assert before in LADDER.scale and after in LADDER.scale
    assert rank[after] >= rank[before], (levels, dim, higher, before, after)


@settings(max_examples=200, deadline=None)
@given(levels=_level_maps)
def test_overall_level_never_exceeds_the_best_dimension(levels):
    result = LADDER.overall_level(levels)
    best = max((LADDER.rank[v] for v in levels.values()), default=0)
    assert result in LADDER.scale
    assert LADDER.rank[result] <= best


# --- malformed ladders ----------------------------------------------------------------


def _data() -> dict:
    return copy.deepcopy(yaml.safe_load(LADDER_BYTES))


def _dump(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _missing_levels() -> str:
    d = _data()
    del d["levels"]
    return _dump(d)


def _missing_cell() -> str:
    d = _data()
    del d["dimensions"][2]["cells"]["staff"]
    return _dump(d)


def _unknown_core() -> str:
    d = _data()
    d["level_rule"]["core_dimensions"].append("vibes")
    return _dump(d)


def _duplicate_dimension() -> str:
    d = _data()
    d["dimensions"].append(copy.deepcopy(d["dimensions"][0]))
    return _dump(d)


def _empty_evidence() -> str:
    d = _data()
    d["dimensions"][1]["cells"]["mid"]["evidence"] = []
    return _dump(d)


def _none_in_levels() -> str:
    d = _data()
    d["levels"] = ["none", *d["levels"]]
    return _dump(d)


def _unknown_detector() -> str:
    d = _data()
    d["flags"][0]["detector"] = "telepathy"
    return _dump(d)


def _empty_behaviour() -> str:
    d = _data()
    d["dimensions"][0]["cells"]["junior"]["behaviour"] = ""
    return _dump(d)


def _unknown_requirement_level() -> str:
    d = _data()
    d["level_rule"]["requirements"]["principal"] = {"min_dimensions": 1, "min_core": 0}
    return _dump(d)


def _computed_field_written() -> str:
    d = _data()
    d["sha256"] = "0" * 64
    return _dump(d)


BROKEN = [
    # (id, yaml text, substrings the message must contain besides the path)
    ("invalid-yaml", "id: x\nlevels: [junior, mid\ndimensions: {\n", ["invalid YAML"]),
    ("not-a-mapping", "- just\n- a\n- list\n", ["mapping"]),
    ("scalar", "hello\n", ["mapping"]),
    ("empty-file", "", ["mapping"]),
    ("missing-levels", _missing_levels(), ["levels"]),
    ("missing-cell", _missing_cell(), ["dimensions", "cells", "staff", "context_engineering"]),
    ("unknown-core", _unknown_core(), ["level_rule", "core_dimensions", "vibes"]),
    ("duplicate-dimension", _duplicate_dimension(), ["dimensions", "duplicate"]),
    ("empty-evidence", _empty_evidence(), ["dimensions", "cells", "evidence"]),
    ("empty-behaviour", _empty_behaviour(), ["dimensions", "cells", "behaviour"]),
    ("none-in-levels", _none_in_levels(), ["levels", "none"]),
    ("unknown-detector", _unknown_detector(), ["flags", "detector"]),
    ("unknown-requirement-level", _unknown_requirement_level(),
     ["level_rule.requirements", "principal"]),
    ("computed-sha256", _computed_field_written(), ["sha256"]),
]


@pytest.mark.parametrize(("text", "needles"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_malformed_ladder_raises_ladder_error_naming_file_and_field(tmp_path, text, needles):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LadderError) as info:
        load_ladder(path)
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    for needle in needles:
        assert needle in message, (needle, message)


def test_unmodified_dump_is_still_valid(tmp_path):
    """Guards the broken-ladder cases above: the round trip itself must not break anything."""
    path = tmp_path / "ok.yaml"
    path.write_text(_dump(_data()), encoding="utf-8")
    lad = load_ladder(path)
    assert isinstance(lad, Ladder)
    assert lad.dimension_ids == DIMENSIONS


def test_ladder_file_errors(tmp_path):
    with pytest.raises(LadderError, match="not found") as info:
        load_ladder(tmp_path / "missing.yaml")
    assert str(tmp_path / "missing.yaml") in str(info.value)
    with pytest.raises(LadderError, match="directory"):
        load_ladder(tmp_path)
    (tmp_path / "latin1.yaml").write_bytes("id: caf\xe9\n".encode("latin-1"))
    with pytest.raises(LadderError, match="UTF-8"):
        load_ladder(tmp_path / "latin1.yaml")
    with pytest.raises(LadderError, match="inline.yaml"):
        parse_ladder(b"[1, 2]", "inline.yaml")


# --- the CLI ----------------------------------------------------------------------------

runner = CliRunner()


def _assert_one_line_error(stderr: str, path: Path) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error:"), stderr
    assert str(path) in lines[0], stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(("text", "needles"), [b[1:] for b in BROKEN[:9]],
                         ids=[b[0] for b in BROKEN[:9]])
def test_cli_ladder_show_broken_ladder_is_one_line(tmp_path, text, needles):
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["ladder", "show", "--ladder", str(path)])
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.stdout == ""
    _assert_one_line_error(result.stderr, path)
    assert needles[0] in result.stderr


def test_cli_ladder_show_broken_ladder_in_a_real_process(tmp_path):
    """The real console script: exit code, one stderr line, no traceback."""
    path = tmp_path / "broken.yaml"
    path.write_text(_missing_cell(), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "packet_eval", "ladder", "show", "--ladder", str(path)],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "COLUMNS": "60", "NO_COLOR": "1"},
    )
    assert proc.returncode != 0
    _assert_one_line_error(proc.stderr, path)
    assert "cells" in proc.stderr


def test_cli_ladder_show_json_round_trips():
    result = runner.invoke(app, ["ladder", "show", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["id"] == "ai-engineering"
    assert data["levels"] == ["junior", "mid", "senior", "staff"]
    assert [d["id"] for d in data["dimensions"]] == DIMENSIONS
    assert data["sha256"] == LADDER.sha256
    # The JSON is the validated ladder: it validates back into an equal model.
    assert Ladder.model_validate(data) == LADDER


def test_cli_ladder_show_text_lists_every_dimension():
    result = runner.invoke(app, ["ladder", "show"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for dim in LADDER.dimensions:
        assert dim.id in result.stdout
    for flag in FLAGS:
        assert flag in result.stdout
    assert LADDER.sha256[:12] in result.stdout
