"""The Assessment: the one output shape of every extractor.

The CLI, batch runs, the inspect harness and every report consume only this
shape. Its central invariant is that each evidence item and flag quotes the
canonical packet text exactly: ``quote == text[start:end]``.
``Assessment.check_grounded`` verifies that and is called before anything is
returned to a user.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from packet_eval.errors import ConfigError

MatchKind = Literal["exact", "normalized", "fuzzy"]
Strength = Literal["strong", "moderate", "weak"]
Attribution = Literal["individual", "team", "unclear"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LadderRef(_Model):
    id: str
    version: str
    sha256: str


class ExtractorInfo(_Model):
    name: str  # baseline | llm | oracle | constant | ...
    model: str
    prompt_version: str | None = None


class Evidence(_Model):
    quote: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    match: MatchKind
    match_score: float
    level: str
    strength: Strength
    attribution: Attribution
    rationale: str


class DimensionFinding(_Model):
    level: str
    evidence: list[Evidence] = Field(default_factory=list)


class FlagFinding(_Model):
    flag: str
    quote: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    rationale: str


class Gap(_Model):
    dimension: str
    needed: str
    demonstrated: str
    advice: str


class Usage(_Model):
    calls: int = 0
    input_tokens: int = 0  # every input token, those read from or written to a prompt cache too
    output_tokens: int = 0
    cache_read_tokens: int = 0  # of input_tokens: read from the provider's prompt cache
    cache_write_tokens: int = 0  # of input_tokens: written to it
    cost_usd: float = 0.0
    cached: bool = False
    dropped_ungrounded: int = 0
    validation_retries: int = 0
    transport_retries: int = 0
    chunks: int = 1
    token_budget: int | None = None
    redacted: bool = False


class Assessment(_Model):
    """Evidence about one packet against one ladder. Evidence, never a verdict."""

    packet_id: str
    packet_sha256: str
    source: str
    ladder: LadderRef
    extractor: ExtractorInfo
    target_level: str | None = None
    level: str
    dimensions: dict[str, DimensionFinding]
    flags: list[FlagFinding] = Field(default_factory=list)
    gaps: list[Gap] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    # What the extractor could not do, in words (a thin ladder, a text about nobody).
    notes: list[str] = Field(default_factory=list)
    created_utc: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def ungrounded(self, text: str) -> list[str]:
        """Describe every quote that is not ``text[start:end]`` (empty when all hold)."""
        bad = []
        for dim, finding in self.dimensions.items():
            for ev in finding.evidence:
                if text[ev.start:ev.end] != ev.quote or ev.start >= ev.end:
                    bad.append(f"{dim}: {ev.quote[:60]!r} at {ev.start}:{ev.end}")
        for fl in self.flags:
            if text[fl.start:fl.end] != fl.quote or fl.start >= fl.end:
                bad.append(f"flag {fl.flag}: {fl.quote[:60]!r} at {fl.start}:{fl.end}")
        return bad

    def check_grounded(self, text: str) -> None:
        """Raise AssertionError if any quote breaks the grounding invariant."""
        bad = self.ungrounded(text)
        if bad:
            raise AssertionError(f"{len(bad)} ungrounded quote(s) in {self.packet_id}: {bad[0]}")

    def evidence_count(self) -> int:
        return sum(len(f.evidence) for f in self.dimensions.values())


def read_assessments(path: Path) -> tuple[list[Assessment], list[str]]:
    """Assessments from a JSONL file, the last one per packet_id, and notes about the file.

    A torn last line (left by an interrupted run) is skipped with a note; any
    other line that is not an Assessment raises ``ConfigError``.
    """
    try:
        lines = path.read_bytes().splitlines(keepends=True)
    except OSError as exc:
        raise ConfigError(f"cannot read assessments ({exc.strerror})", path) from None
    latest: dict[str, Assessment] = {}
    notes: list[str] = []
    for n, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            a = Assessment.model_validate_json(raw)
        except ValidationError as exc:
            if n == len(lines) and not raw.endswith(b"\n"):
                notes.append(f"ignored a torn last line ({len(raw)} bytes) left by an interrupted run")
                continue
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"line {n} is not an Assessment ({where}: {first['msg']})",
                              path) from None
        if a.packet_id in latest:
            notes.append(f"{a.packet_id} appears more than once; the last line is used")
        latest[a.packet_id] = a
    if not latest:
        raise ConfigError("no assessments in the file", path)
    return list(latest.values()), notes
