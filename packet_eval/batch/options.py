"""The options of a batch run, as given (``Settings``) and as checked (``Checked``).

``check_options`` finds every problem a user can fix before any work starts, so
that a run never stops half-way for a typo: exclusive or out-of-range options,
the ladder, the target level, the model string and ``--batch-api``, the labels
and calibrator, the targets CSV, and whether there is any packet to assess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console

from packet_eval.api import BASELINE, check_target_level, resolve_model
from packet_eval.batch.jobs import expand_paths, read_targets
from packet_eval.batch.outdir import OutDir
from packet_eval.errors import ConfigError, PacketError
from packet_eval.extractors.request import check_mode, check_timeout
from packet_eval.ladder import Ladder, load_ladder
from packet_eval.packet import SUPPORTED_SUFFIXES
from packet_eval.providers import ModelSpec, RetryPolicy, parse_model
from packet_eval.store import Store

if TYPE_CHECKING:
    from packet_eval.dataset import Label


@dataclass(frozen=True)
class Settings:
    """``run_batch``'s keyword options, as given (see its docstring)."""

    model: str | None = None
    base_url: str | None = None
    concurrency: int = 8
    target_level: str | None = None
    targets_csv: str | Path | None = None
    ladder: Ladder | str | Path | None = None
    use_cache: bool = True
    max_cost_usd: float | None = None
    labels_path: str | Path | None = None
    calibrator: str | None = None
    progress: bool = True
    batch_api: bool = False
    retry: RetryPolicy | None = None
    store: Store | None = None
    poll_interval_s: float = 30.0
    console: Console | None = None
    redact: bool | None = None
    redact_names: tuple[str, ...] = ()  # a committee's roster: always masked when redacting
    timeout_s: float | None = None  # None: $PACKET_EVAL_TIMEOUT, else 120 s
    mode: str | None = None  # tools | json; None: tools


@dataclass(frozen=True)
class Checked:
    """What the checks resolved: everything a run needs that could have been wrong."""

    ladder: Ladder
    llm_model: str | None  # the LLM model string as given; None for the baseline
    spec: ModelSpec | None
    model_id: str  # the model as Assessments record it
    labels: list[Label] | None
    targets: dict[str, str] | None
    out: OutDir
    files: list[Path]
    max_cost_applies: bool = True  # False: baseline or a self-hosted server, nothing is priced
    target_level: str | None = None  # --target-level as the ladder spells it


def _parse_labels(labels_path: str | Path | None, ladder: Ladder,
                  calibrator: str | None) -> list[Label] | None:
    if labels_path is None:
        return None
    from packet_eval.dataset import parse_labels

    parsed = parse_labels(labels_path, ladder)
    parsed.valid_labels()
    if calibrator is not None:
        from packet_eval.report.calibration import pick_labels

        try:
            pick_labels(parsed.labels, calibrator)
        except ValueError as exc:
            raise ConfigError(f"--calibrator: {exc}") from None
    return parsed.labels


def _model(s: Settings) -> tuple[str | None, ModelSpec | None]:
    chosen = resolve_model(s.model, s.base_url)[0]
    if chosen == BASELINE:
        if s.batch_api:
            raise ConfigError("--batch-api needs an openai/* or anthropic/* model, not the baseline")
        return None, None
    spec = parse_model(chosen, base_url=s.base_url, injected=True)
    if s.batch_api and not spec.info.batch_api:
        raise ConfigError(f"--batch-api needs an openai/* or anthropic/* model, not {chosen}; "
                          "for a vLLM or other OpenAI-compatible server use --base-url "
                          "with a higher --concurrency")
    return chosen, spec


def run_settings(s: Settings, ladder: Ladder, model_id: str) -> dict[str, str | None]:
    """What one ``--out`` directory holds results for: model, ladder and target."""
    target = s.target_level if s.targets_csv is None else f"targets: {Path(s.targets_csv).resolve()}"
    return {"model": model_id, "ladder_sha256": ladder.sha256, "target": target}


def _same_run(out: OutDir, wanted: dict[str, str | None]) -> None:
    # One directory, one set of rows: a rerun with another target, ladder or model would
    # add a second row per packet, so it is refused rather than mixed in (README).
    previous = out.previous_run()
    if previous is None:
        return
    for name, value in wanted.items():
        if name in previous and previous[name] != value:
            was = previous.get("ladder") if name == "ladder_sha256" else previous[name]
            raise ConfigError(f"--out {out.path} holds a run with another {name.split('_')[0]} "
                              f"({was or 'none'}); rerun with the same options to resume, or "
                              "use a new --out")


def check_options(paths: Sequence[str | Path], out_dir: str | Path, s: Settings) -> Checked:
    """Raise a one-line PacketEvalError for any problem with the options; else resolve them."""
    if s.target_level is not None and s.targets_csv is not None:
        raise ConfigError("use --target-level or --targets, not both")
    if s.concurrency < 1:
        raise ConfigError("--concurrency must be at least 1")
    check_timeout(s.timeout_s)
    check_mode(s.mode)
    if s.max_cost_usd is not None and s.max_cost_usd < 0:
        raise ConfigError("--max-cost must not be negative")
    lad = s.ladder if isinstance(s.ladder, Ladder) else load_ladder(s.ladder)
    target_level = check_target_level(lad, s.target_level)
    llm_model, spec = _model(s)
    labels = _parse_labels(s.labels_path, lad, s.calibrator)
    targets = read_targets(s.targets_csv, lad) if s.targets_csv is not None else None
    missing = [Path(raw) for raw in paths if not Path(raw).expanduser().exists()]
    for p in missing:
        # Before the run directory exists: a mistyped folder (or every path missing) leaves
        # no empty report behind; a missing packet file among others fails on its own row.
        if p.suffix.lower() not in SUPPORTED_SUFFIXES or len(missing) == len(paths):
            raise PacketError("not found (no such file or folder)", p)
    out = OutDir(out_dir)
    _same_run(out, run_settings(replace(s, target_level=target_level), lad,
                                str(spec) if spec is not None else BASELINE))
    files = expand_paths(paths, exclude=out.path)
    if not files:
        raise ConfigError("no packet files found (looked for "
                          ".md .markdown .txt .docx .pdf .html .htm)")
    # The baseline and self-hosted servers cost nothing: --max-cost does not apply (README).
    applies = spec is not None and spec.info.key_var is not None
    return Checked(ladder=lad, llm_model=llm_model, spec=spec,
                   model_id=str(spec) if spec is not None else BASELINE, labels=labels,
                   targets=targets, out=out, files=files, max_cost_applies=applies,
                   target_level=target_level)
