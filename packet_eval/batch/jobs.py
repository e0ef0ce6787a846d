"""What a batch run has to do: packet files, their targets, keys and cost estimates.

``expand_paths`` turns the command line's files and directories into a sorted,
de-duplicated list of packet files (directories recursively; hidden files, Office
lock files and the run's own output directory are skipped so a report is never
assessed as a packet). ``read_targets`` reads ``--targets targets.csv``.
``scan`` loads each packet once before the run to learn its key (content hash),
its size and whether the LLM cache already holds it: that is what resuming and
the ``--max-cost`` estimate need. Only these small facts are kept, never the text.

The estimate counts, per packet, one call per chunk with the real system prompt
plus the chunk's text at four characters a token, and ``OUTPUT_TOKENS_PER_CALL``
out. Re-asks are not in it; the run checks actual spend as it goes.

Prompt caching: the estimate expects the share of input tokens read from (and
written to) the provider's cache that earlier runs of the model and prompt version
observed in the call log, which each run reports afterwards in its summary
(``cache_read_share``). With no such calls it expects none: a ceiling is never
lowered on a guess.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from packet_eval.batch.outdir import RunKey
from packet_eval.errors import ConfigError, PacketEvalError
from packet_eval.ladder import Ladder
from packet_eval.packet import SUPPORTED_SUFFIXES, Packet, load_packet, packet_id_for

logger = logging.getLogger(__name__)
OUTPUT_TOKENS_PER_CALL = 2000  # generous: 7 dimensions of reasoning, quotes and rationales
CHARS_PER_TOKEN = 4
KEEP_TEXT_CHARS = 50_000_000


@dataclass(slots=True)
class Job:
    """One packet file of the run. ``error`` is set when it could not even be read."""

    index: int
    path: Path
    packet_id: str
    target_level: str | None
    key: RunKey
    chars: int = 0
    calls: int = 0
    est_input_tokens: int = 0
    est_output_tokens: int = 0
    est_cost_usd: float = 0.0
    cached: bool = False
    error: str | None = None
    error_type: str | None = None
    # The text read by the scan, kept until the job runs so it is not read twice; the
    # scan drops it past ``KEEP_TEXT_CHARS`` in total so memory stays bounded.
    packet: Packet | None = None


def _skip(path: Path, root: Path, exclude: Path | None) -> bool:
    rel = path.relative_to(root).parts
    if any(part.startswith(".") for part in rel) or path.name.startswith("~$"):
        return True
    return exclude is not None and (path == exclude or exclude in path.parents)


def expand_paths(paths: Iterable[str | Path], *, exclude: Path | None = None) -> list[Path]:
    """Files as given plus supported packet files under directories, sorted, without repeats.

    A file named explicitly is kept whatever its type (it then fails visibly as an
    unsupported packet); a path that does not exist is kept too and fails as
    "file not found", so a typo is reported rather than silently dropped.
    """
    exclude = exclude.resolve() if exclude is not None else None
    found: set[Path] = set()
    for raw in paths:
        p = Path(raw).expanduser().resolve()
        if p.is_dir():
            for f in p.rglob("*"):
                if f.suffix.lower() in SUPPORTED_SUFFIXES and f.is_file() \
                        and not _skip(f, p, exclude):
                    found.add(f)
        else:
            found.add(p)
    return sorted(found)


def read_targets(path: str | Path, ladder: Ladder) -> dict[str, str]:
    """Read ``targets.csv``: a ``target_level`` column and a ``packet_id`` or ``path`` column.

    Returns packet id or resolved path -> level. Raises ConfigError naming the line at fault.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read targets file ({exc.strerror})", p) from None
    reader = csv.DictReader(text.splitlines())
    cols = [c.strip() for c in (reader.fieldnames or [])]
    if "target_level" not in cols or not ({"packet_id", "path"} & set(cols)):
        raise ConfigError("targets CSV needs a header with target_level and packet_id (or path)", p)
    targets: dict[str, str] = {}
    for n, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        level = row.get("target_level", "")
        ident = row.get("packet_id") or row.get("path") or ""
        if not ident:
            raise ConfigError(f"line {n}: no packet_id or path", p)
        if level not in ladder.rank:
            raise ConfigError(f"line {n}: unknown target level {level!r} "
                              f"(expected one of {', '.join(ladder.scale)})", p)
        if row.get("path") and not row.get("packet_id"):
            ident = str((p.parent / ident).resolve())
        targets[ident] = level
    return targets


def target_for(path: Path, targets: dict[str, str] | None, default: str | None) -> str | None:
    if targets is None:
        return default
    return targets.get(str(path), targets.get(packet_id_for(path)))


@dataclass(frozen=True)
class Estimator:
    """Per-packet calls, tokens and cost for one model; zero for the baseline."""

    model: str  # the resolved model identity, as Assessments record it
    llm: bool
    system_chars: int = 0
    user_overhead_chars: int = 0
    token_budget: int = 0
    price_in: float = 0.0  # USD per token
    price_out: float = 0.0
    priced: bool = False
    price_cache_read: float = 0.0  # USD per token
    price_cache_write: float = 0.0
    cache_read_share: float = 0.0  # expected share of input tokens read from the prompt cache
    cache_write_share: float = 0.0

    def input_price(self) -> float:
        """USD per input token at the expected cache shares."""
        fresh = max(0.0, 1.0 - self.cache_read_share - self.cache_write_share)
        return (fresh * self.price_in + self.cache_read_share * self.price_cache_read
                + self.cache_write_share * self.price_cache_write)

    def estimate(self, packet: Packet, job: Job) -> None:
        job.chars = len(packet.text)
        if not self.llm:
            return
        from packet_eval.extractors.chunking import chunk_packet

        chunks = chunk_packet(packet, self.token_budget)
        job.calls = len(chunks)
        sent = sum(c.end - c.context_start for c in chunks)
        chars = job.calls * (self.system_chars + self.user_overhead_chars) + sent
        job.est_input_tokens = math.ceil(chars / CHARS_PER_TOKEN)
        job.est_output_tokens = job.calls * OUTPUT_TOKENS_PER_CALL
        job.est_cost_usd = (job.est_input_tokens * self.input_price()
                            + job.est_output_tokens * self.price_out)


def make_estimator(model: str, ladder: Ladder, *, llm: bool, token_budget: int,
                   cache_shares: tuple[float, float] | None = None) -> Estimator:
    """The estimator; ``cache_shares`` is the expected (read, write) share of input tokens."""
    if not llm:
        return Estimator(model=model, llm=False)
    from packet_eval.extractors.chunking import Chunk
    from packet_eval.extractors.request import build_messages
    from packet_eval.packet import packet_from_text
    from packet_eval.providers.pricing import cache_prices_for, price_for

    # The real prompt, rendered once around an empty-ish packet, measures the fixed overhead.
    probe = packet_from_text("x", "probe", "probe")
    messages = build_messages(ladder, probe, Chunk(0, 1, 0), 1, 1)
    system = len(messages[0]["content"])
    user_overhead = len(messages[1]["content"]) - 1
    prices, cache = price_for(model), cache_prices_for(model)
    read, write = cache_shares or (0.0, 0.0)
    return Estimator(model=model, llm=True, system_chars=system, user_overhead_chars=user_overhead,
                     token_budget=token_budget,
                     price_in=(prices[0] / 1e6) if prices else 0.0,
                     price_out=(prices[1] / 1e6) if prices else 0.0, priced=prices is not None,
                     price_cache_read=(cache[0] / 1e6) if cache else 0.0,
                     price_cache_write=(cache[1] / 1e6) if cache else 0.0,
                     cache_read_share=read, cache_write_share=write)


def scan(paths: list[Path], *, ladder: Ladder, estimator: Estimator,
         targets: dict[str, str] | None, default_target: str | None,
         is_cached: Callable[[Packet], bool] | None,
         keep_chars: int = KEEP_TEXT_CHARS) -> Iterable[Job]:
    """One Job per path, in order. Unreadable packets come back with ``error`` set.

    The first ``keep_chars`` characters of packet text stay on their jobs (see ``Job.packet``).
    """
    kept = 0
    for i, path in enumerate(paths):
        target = target_for(path, targets, default_target)
        try:
            packet = load_packet(path)
        except PacketEvalError as exc:
            key = RunKey(str(path), None, estimator.model, ladder.sha256, target)
            logger.debug("scanned %s: unreadable (%s)", path, type(exc).__name__)
            yield Job(i, path, packet_id_for(path), target, key, error=str(exc),
                      error_type=type(exc).__name__)
            continue
        key = RunKey(str(path), packet.sha256, estimator.model, ladder.sha256, target)
        job = Job(i, path, packet.packet_id, target, key)
        estimator.estimate(packet, job)
        if is_cached is not None:
            job.cached = is_cached(packet)
        if kept + len(packet.text) <= keep_chars:
            kept += len(packet.text)
            job.packet = packet
        logger.debug("scanned %s: %d chars, %d call(s), est $%.6f%s", path, job.chars, job.calls,
                     job.est_cost_usd, " (cached)" if job.cached else "")
        yield job
