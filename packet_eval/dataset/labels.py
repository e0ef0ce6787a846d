"""Calibrator labels: one JSON line per (packet, calibrator), in the golden layout's format.

The same format serves the golden dataset and a committee's own calibrations
(``packet-eval agreement LABELS.jsonl``). ``parse_labels`` reports every problem
with its file and line, so a broken labels file is fixed in one pass.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packet_eval.errors import DatasetError
from packet_eval.ladder import NONE, Ladder

FOREIGN = "another ladder: "
HINT = "; a labels file for another ladder? pass that ladder with --ladder"
KEYS = {"packet_id", "calibrator", "target_level", "level", "dimensions", "flags", "notes"}


@dataclass(frozen=True)
class DimensionLabel:
    level: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Label:
    packet_id: str
    calibrator: str
    target_level: str | None
    level: str
    dimensions: dict[str, DimensionLabel]
    flags: tuple[str, ...]
    notes: str
    line: int = 0


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass
class ParsedLabels:
    labels: list[Label] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def valid_labels(self) -> list[Label]:
        """The labels; DatasetError naming the first problem (and how many more) if any."""
        if self.problems:
            more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
            raise DatasetError(f"{self.problems[0]}{more}")
        return self.labels


def _check_record(obj: Any, ladder: Ladder) -> list[str]:
    if not isinstance(obj, dict):
        return ["a label must be a JSON object"]
    errs = []
    missing = KEYS - obj.keys()
    extra = obj.keys() - KEYS
    if missing:
        errs.append(f"missing key(s): {', '.join(sorted(missing))}")
    if extra:
        errs.append(f"unknown key(s): {', '.join(sorted(repr(k) for k in extra))}")
    if missing:
        return errs
    for key in ("packet_id", "calibrator"):
        if not isinstance(obj[key], str) or not obj[key].strip():
            errs.append(f"{key} must be a non-empty string")
    dims = obj["dimensions"]
    if isinstance(dims, dict):
        unknown = [d for d in dims if d not in ladder.dimension_ids]
        if unknown and 2 * len(unknown) >= len(dims):
            # Mostly foreign dimension ids: one line that says so, not one per dimension.
            shown = ", ".join(repr(d) for d in unknown[:2]) + (f" +{len(unknown) - 2} more"
                                                                if len(unknown) > 2 else "")
            return [f"{FOREIGN}dimensions {shown} are not in ladder {ladder.id!r} "
                    f"{ladder.version}{HINT}"]
    if obj["target_level"] is not None and obj["target_level"] not in ladder.scale:
        errs.append(f"target_level {obj['target_level']!r} is not a ladder level")
    if obj["level"] not in ladder.scale:
        errs.append(f"level {obj['level']!r} is not a ladder level ({', '.join(ladder.scale)})")
    if not isinstance(obj["notes"], str):
        errs.append("notes must be a string")
    flags = obj["flags"]
    if not isinstance(flags, list) or not all(isinstance(f, str) for f in flags):
        errs.append("flags must be a list of flag ids")
    else:
        errs += [f"unknown flag {f!r}" for f in flags if f not in ladder.flag_ids]
        if len(set(flags)) != len(flags):
            errs.append("flags has duplicates")
    dims = obj["dimensions"]
    if not isinstance(dims, dict):
        return [*errs, "dimensions must be an object keyed by dimension id"]
    for d in ladder.dimension_ids:
        if d not in dims:
            errs.append(f"dimensions.{d} is missing (all {len(ladder.dimension_ids)} are required)")
    for d, v in dims.items():
        if d not in ladder.dimension_ids:
            errs.append(f"dimensions[{d!r}] is not a ladder dimension")
            continue
        if not isinstance(v, dict) or set(v) != {"level", "evidence"}:
            errs.append(f"dimensions.{d} must have exactly 'level' and 'evidence'")
            continue
        if v["level"] not in ladder.scale:
            errs.append(f"dimensions.{d}.level {v['level']!r} is not a ladder level")
        ev = v["evidence"]
        if not isinstance(ev, list) or not all(isinstance(q, str) and q.strip() for q in ev):
            errs.append(f"dimensions.{d}.evidence must be a list of non-empty strings")
        elif v["level"] != NONE and not ev:
            errs.append(f"dimensions.{d} is rated {v['level']!r} but has no evidence")
    return errs


def parse_labels(path: str | Path, ladder: Ladder) -> ParsedLabels:
    """Parse a labels JSONL file, collecting every problem with its line number."""
    p = Path(path)
    result = ParsedLabels()
    try:
        raw = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        result.problems.append(Problem(str(p), None, "labels file not found"))
        return result
    except UnicodeDecodeError:
        result.problems.append(Problem(str(p), None, "labels file is not UTF-8"))
        return result
    except OSError as exc:
        result.problems.append(Problem(str(p), None, f"cannot read labels file ({exc.strerror})"))
        return result
    seen: dict[tuple[str, str], int] = {}
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            result.problems.append(Problem(str(p), n, f"invalid JSON ({exc.msg} at column {exc.colno})"))
            continue
        errs = _check_record(obj, ladder)
        if errs:
            result.problems += [Problem(str(p), n, e) for e in errs]
            continue
        key = (obj["packet_id"], obj["calibrator"])
        if key in seen:
            result.problems.append(Problem(str(p), n, f"duplicate label for packet {key[0]!r} by "
                                                      f"{key[1]!r} (first on line {seen[key]})"))
            continue
        seen[key] = n
        result.labels.append(Label(
            packet_id=obj["packet_id"], calibrator=obj["calibrator"],
            target_level=obj["target_level"], level=obj["level"],
            dimensions={d: DimensionLabel(v["level"], tuple(v["evidence"]))
                        for d, v in obj["dimensions"].items()},
            flags=tuple(obj["flags"]), notes=obj["notes"], line=n))
    if not result.labels and result.problems and all(
            pr.message.startswith(FOREIGN) for pr in result.problems):
        first = result.problems[0].message.removeprefix(FOREIGN).removesuffix(HINT)
        result.problems = [Problem(str(p), None, f"labels for another ladder: {first}; pass "
                                                 "that ladder with --ladder")]
    if not result.labels and not result.problems:
        result.problems.append(Problem(str(p), None, "labels file has no labels"))
    return result
