"""The ladder: levels, dimensions, cells, flags and the overall-level rule, as data.

A ladder is a YAML file (the default ships in ``packet_eval/ladders/``). Nothing
else in packet-eval hard-codes a dimension id, level name or flag: extractors,
metrics and reports all read them from a ``Ladder``. The overall-level rule is a
pure function of per-dimension levels so it can be tested on its own and
applied identically to every extractor's output.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from packet_eval.errors import LadderError

SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
NONE = "none"
DEFAULT_LADDER = "ai-engineering"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cell(_Strict):
    behaviour: str = Field(min_length=1)
    evidence: list[str] = Field(min_length=1)
    cues: list[str] = Field(default_factory=list)


class Dimension(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    summary: str = ""
    cues: list[str] = Field(default_factory=list)
    cells: dict[str, Cell]


class Flag(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    detector: Literal[
        "cue", "cue_with_number", "cue_without_outcome", "cue_without_coverage",
        "team_voice", "injection", "none",
    ] = "cue"
    cues: list[str] = Field(default_factory=list)


class Requirement(_Strict):
    min_dimensions: int = Field(ge=1)
    min_core: int = Field(ge=0)


class LevelRule(_Strict):
    core_dimensions: list[str]
    requirements: dict[str, Requirement]


class Ladder(_Strict):
    """A validated ladder. Build one with ``load_ladder``."""

    id: str = Field(min_length=1)
    version: str = Field(min_length=1)
    title: str = ""
    description: str = ""
    levels: list[str] = Field(min_length=1)
    level_cues: dict[str, list[str]] = Field(default_factory=dict)
    dimensions: list[Dimension] = Field(min_length=1)
    flags: list[Flag] = Field(default_factory=list)
    level_rule: LevelRule
    # Written by `packet-eval calibrate`: the ladder it started from, the labels, the figures.
    fitted: dict[str, Any] | None = None
    sha256: str = ""
    source: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Ladder:
        problems: list[str] = []
        if NONE in self.levels:
            problems.append(f"levels: '{NONE}' is implicit below the levels and must not be listed")
        if len(set(self.levels)) != len(self.levels):
            problems.append("levels: duplicate level names")
        ids = [d.id for d in self.dimensions]
        if len(set(ids)) != len(ids):
            problems.append("dimensions: duplicate dimension ids")
        for i, dim in enumerate(self.dimensions):
            missing = [lv for lv in self.levels if lv not in dim.cells]
            extra = [lv for lv in dim.cells if lv not in self.levels]
            if missing:
                problems.append(f"dimensions[{i}] ({dim.id}).cells: missing level(s) {missing}")
            if extra:
                problems.append(f"dimensions[{i}] ({dim.id}).cells: unknown level(s) {extra}")
        for lv in self.level_cues:
            if lv not in self.levels:
                problems.append(f"level_cues: unknown level '{lv}'")
        rule = self.level_rule
        for core in rule.core_dimensions:
            if core not in ids:
                problems.append(f"level_rule.core_dimensions: unknown dimension '{core}'")
        for lv in self.levels:
            if lv not in rule.requirements:
                problems.append(f"level_rule.requirements: missing level '{lv}'")
        for lv, req in rule.requirements.items():
            if lv not in self.levels:
                problems.append(f"level_rule.requirements: unknown level '{lv}'")
            elif req.min_dimensions > len(ids) or req.min_core > len(rule.core_dimensions):
                problems.append(f"level_rule.requirements.{lv}: asks for more dimensions than exist")
        flag_ids = [f.id for f in self.flags]
        if len(set(flag_ids)) != len(flag_ids):
            problems.append("flags: duplicate flag ids")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def scale(self) -> list[str]:
        """All level names in order, lowest (``none``) first."""
        return [NONE, *self.levels]

    @cached_property
    def rank(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.scale)}

    @property
    def dimension_ids(self) -> list[str]:
        return [d.id for d in self.dimensions]

    @property
    def flag_ids(self) -> list[str]:
        return [f.id for f in self.flags]

    def dimension(self, dim_id: str) -> Dimension:
        for dim in self.dimensions:
            if dim.id == dim_id:
                return dim
        raise KeyError(dim_id)

    def flag(self, flag_id: str) -> Flag:
        for flag in self.flags:
            if flag.id == flag_id:
                return flag
        raise KeyError(flag_id)

    def check_level(self, level: str) -> str:
        if level not in self.rank:
            raise ValueError(f"unknown level '{level}' (expected one of {', '.join(self.scale)})")
        return level

    def overall_level(self, dimension_levels: Mapping[str, str]) -> str:
        """Apply the ladder's overall-level rule to per-dimension levels.

        The result is the highest level L such that L and every level below it
        meet their requirement: at least ``min_dimensions`` dimensions at L or
        above, ``min_core`` of them core. Missing dimensions count as ``none``.
        """
        rank = self.rank
        core = set(self.level_rule.core_dimensions)
        ranks = {d: rank[self.check_level(dimension_levels.get(d, NONE))] for d in self.dimension_ids}
        achieved = NONE
        for level in self.levels:
            req = self.level_rule.requirements[level]
            at_or_above = [d for d, r in ranks.items() if r >= rank[level]]
            n_core = sum(1 for d in at_or_above if d in core)
            if len(at_or_above) < req.min_dimensions or n_core < req.min_core:
                break
            achieved = level
        return achieved

    def ref(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "sha256": self.sha256}


def _format_validation_error(err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
    msg = first["msg"].removeprefix("Value error, ")
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{loc}: {msg}{more}" if first["loc"] else f"{msg}{more}"


def parse_ladder(raw: bytes, source: str) -> Ladder:
    """Parse and validate ladder YAML bytes; ``source`` names the file in errors."""
    try:
        # libyaml's loader when built in: the pure-Python one took most of a cached rerun's
        # start (0.9 s of 2.8 s for 60 packets on a loaded 2-core machine).
        data: Any = yaml.load(raw.decode("utf-8"), Loader=SAFE_LOADER)  # noqa: S506 - a safe loader
    except UnicodeDecodeError:
        raise LadderError("ladder file is not UTF-8 text", source) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise LadderError(f"invalid YAML{where}: {getattr(exc, 'problem', exc)}", source) from None
    if not isinstance(data, dict):
        raise LadderError("a ladder must be a YAML mapping with id, version, levels, dimensions", source)
    if "sha256" in data or "source" in data:
        raise LadderError("'sha256' and 'source' are computed, not written in the file", source)
    try:
        return Ladder.model_validate(
            {**data, "sha256": hashlib.sha256(raw).hexdigest(), "source": source}
        )
    except ValidationError as exc:
        raise LadderError(_format_validation_error(exc), source) from None


def load_ladder(path: str | Path | None = None) -> Ladder:
    """Load a ladder from ``path``, or the default ladder when ``path`` is None."""
    if path is None:
        res = resources.files("packet_eval") / "ladders" / f"{DEFAULT_LADDER}.yaml"
        return parse_ladder(res.read_bytes(), f"{DEFAULT_LADDER}.yaml")
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise LadderError("ladder file not found", p) from None
    except IsADirectoryError:
        raise LadderError("is a directory, not a ladder YAML file", p) from None
    except OSError as exc:
        raise LadderError(f"cannot read ladder file ({exc.strerror})", p) from None
    return parse_ladder(raw, str(p))
