"""The files of a batch run's output directory, written so a crash loses nothing.

A run owns ``--out DIR`` through an exclusive ``flock`` on ``DIR/.packet-eval.lock``
(released by the kernel even on SIGKILL, so a dead run never blocks the next one).
Results go to ``assessments.jsonl`` and failures to ``errors.jsonl`` through a
``DurableAppender``: lines are appended with ``O_APPEND`` and ``fsync``ed before the
caller is told they are written, several results sharing one fsync (group commit)
so durability does not cost throughput. A result is *finished* exactly when its
line is durable.

On start, ``load_results`` reads ``assessments.jsonl`` as a stream, truncates a torn
final line (the one write a SIGKILL can interrupt), and indexes finished results by
``RunKey`` so a resumed run skips them; duplicate keys, which a correct run never
writes, are reported and the first line wins. Only small index entries are kept in
memory; a full Assessment is re-read from its byte offset when a report needs it.

``packet.unchanged_packet_text`` reads a result's packet back for a report, only if the file is
unchanged since it was assessed (its sha256 still matches).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packet_eval.errors import ConfigError

RESULTS = "assessments.jsonl"
ERRORS = "errors.jsonl"
LOCK = ".packet-eval.lock"
RUN_INFO = "run.json"


@dataclass(frozen=True, slots=True)
class RunKey:
    """What makes two results the same: the packet file and content, model, ladder and target.

    The target level is part of the key because gaps depend on it; a rerun with a
    new target re-assesses (for free from the LLM cache) instead of reusing stale gaps.
    """

    source: str
    packet_sha256: str | None
    model: str
    ladder_sha256: str
    target_level: str | None

    @property
    def digest(self) -> str:
        raw = json.dumps([self.source, self.packet_sha256, self.model, self.ladder_sha256,
                          self.target_level])
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    @classmethod
    def of_assessment(cls, obj: dict[str, Any]) -> RunKey:
        """The key of an Assessment given as parsed JSON (as stored in assessments.jsonl)."""
        return cls(obj["source"], obj["packet_sha256"], obj["extractor"]["model"],
                   obj["ladder"]["sha256"], obj.get("target_level"))


@dataclass(frozen=True, slots=True)
class ResultRef:
    """Where one finished result sits in assessments.jsonl, plus the fields a summary needs."""

    offset: int
    length: int
    packet_id: str
    source: str


@dataclass
class LoadedResults:
    refs: dict[str, ResultRef] = field(default_factory=dict)  # key digest -> ref
    repaired_bytes: int = 0
    duplicates: int = 0
    unreadable_lines: list[int] = field(default_factory=list)


def _fsync_dir(path: Path) -> None:
    # A new file's directory entry is durable only once the directory is fsynced.
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class OutDir:
    """The run directory, held under an exclusive lock for the lifetime of a run."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None

    @property
    def results(self) -> Path:
        return self.path / RESULTS

    @property
    def errors(self) -> Path:
        return self.path / ERRORS

    def lock(self) -> None:
        """Take the exclusive lock, or raise ConfigError naming the run that holds it."""
        import fcntl

        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ConfigError(f"cannot write to the output directory ({exc.strerror})",
                              self.path) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise ConfigError(f"another packet-eval run (pid {holder}) is writing here; wait for "
                              "it to finish or use a different --out", self.path) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing releases the flock
            self._lock_fd = None

    def previous_run(self) -> dict[str, Any] | None:
        """The ``run.json`` an earlier run left here, or None (none, or unreadable)."""
        try:
            data = json.loads((self.path / RUN_INFO).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def load_results(self) -> LoadedResults:
        """Index finished results, truncating a torn final line left by a crash."""
        out = LoadedResults()
        path = self.results
        if not path.exists():
            return out
        good_end = 0
        with path.open("r+b") as fh:
            offset = 0
            for n, raw in enumerate(fh, start=1):
                start, offset = offset, offset + len(raw)
                complete = raw.endswith(b"\n")
                try:
                    obj = json.loads(raw)
                    key = RunKey.of_assessment(obj)
                except (ValueError, KeyError, TypeError):
                    if not complete:
                        break  # torn tail: cut below
                    out.unreadable_lines.append(n)
                    good_end = offset
                    continue
                if not complete:
                    # A parseable line without its newline is still a torn write of ours;
                    # dropping it means the packet is redone, never half-counted.
                    break
                good_end = offset
                digest = key.digest
                if digest in out.refs:
                    out.duplicates += 1
                    continue
                out.refs[digest] = ResultRef(start, len(raw), obj.get("packet_id", ""),
                                             obj.get("source", ""))
            size = fh.seek(0, os.SEEK_END)
            if size > good_end:
                out.repaired_bytes = size - good_end
                fh.truncate(good_end)
                fh.flush()
                os.fsync(fh.fileno())
        return out

    def read_result(self, ref: ResultRef) -> dict[str, Any]:
        with self.results.open("rb") as fh:
            fh.seek(ref.offset)
            return json.loads(fh.read(ref.length))

    def iter_results(self, refs: list[ResultRef]) -> Iterator[dict[str, Any]]:
        """Parsed results in the order given, one at a time (memory stays flat)."""
        with self.results.open("rb") as fh:
            for ref in refs:
                fh.seek(ref.offset)
                yield json.loads(fh.read(ref.length))

    def load_errors(self) -> dict[str, dict[str, Any]]:
        """The latest error line per key digest (torn lines ignored)."""
        latest: dict[str, dict[str, Any]] = {}
        if not self.errors.exists():
            return latest
        with self.errors.open("rb") as fh:
            for raw in fh:
                try:
                    obj = json.loads(raw)
                    latest[str(obj["key"])] = obj
                except (ValueError, KeyError, TypeError):
                    continue
        return latest

    def rewrite_errors(self, entries: list[dict[str, Any]]) -> None:
        """Atomically replace errors.jsonl with ``entries`` (unresolved failures only)."""
        tmp = self.errors.with_suffix(".jsonl.tmp")
        if not entries:
            self.errors.unlink(missing_ok=True)
            return
        with tmp.open("wb") as fh:
            for e in entries:
                fh.write(json.dumps(e, ensure_ascii=False).encode() + b"\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.errors)
        _fsync_dir(self.path)

    def write_atomic(self, name: str, data: bytes) -> Path:
        """Write a derived output (summary, report) via a temp file and rename."""
        target = self.path / name
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        return target


class DurableAppender:
    """Append JSON lines to a file; ``await append(...)`` returns once the line is fsynced.

    A single writer task drains the queue, writes everything pending with one
    ``os.write`` and one ``fsync`` in a worker thread (group commit), then resolves
    the waiting futures with each line's byte offset. One writer means lines never
    interleave, and the event loop never blocks on the disk.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        existed = path.exists()
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        if not existed:
            _fsync_dir(path.parent)
        self._size = os.fstat(self._fd).st_size
        self._queue: asyncio.Queue[tuple[bytes, asyncio.Future[int]] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.fsyncs = 0

    async def append(self, line: str) -> tuple[int, int]:
        """Write ``line`` (no newline) durably; returns (offset, length) in the file."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())
        data = line.encode() + b"\n"
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        await self._queue.put((data, fut))
        # Shielded: a cancelled worker must not lose track of a line already queued.
        offset = await asyncio.shield(fut)
        return offset, len(data)

    def _write(self, chunks: list[bytes]) -> int:
        start = self._size
        payload = b"".join(chunks)
        view = memoryview(payload)
        try:
            while view:
                n = os.write(self._fd, view)
                view = view[n:]
            os.fsync(self._fd)
        except OSError:
            # A full disk can stop a write halfway: cut it back so no torn line is left
            # in the middle of the file for the next append to follow.
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)
            raise
        self._size += len(payload)
        return start

    async def _run(self) -> None:
        while True:
            item = await self._queue.get()
            batch = [item]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            stop = any(b is None for b in batch)
            pending = [b for b in batch if b is not None]
            if pending:
                try:
                    start = await asyncio.to_thread(self._write, [d for d, _ in pending])
                except OSError as exc:
                    for _, fut in pending:
                        if not fut.done():
                            fut.set_exception(exc)
                else:
                    self.fsyncs += 1
                    offset = start
                    for data, fut in pending:
                        if not fut.done():
                            fut.set_result(offset)
                        offset += len(data)
            if stop:
                return

    async def close(self) -> None:
        if self._task is not None:
            await self._queue.put(None)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
