"""One calibrator's labelling session: the packets, the labels file, and saving a label.

The labels file is the golden layout's ``labels.jsonl`` (see ``dataset/labels.py``),
so the output passes ``packet-eval dataset check``. Every save rewrites the whole
file through a temp file in the same folder and ``os.replace``, so a crash or a
closed browser leaves either the old file or the new one, never half a line.
Other calibrators' lines are kept byte for byte.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packet_eval.dataset.labels import parse_labels
from packet_eval.errors import DatasetError, PacketEvalError
from packet_eval.ladder import Ladder
from packet_eval.packet import SUPPORTED_SUFFIXES, Packet, load_packet, packet_id_for


class LabelRejected(Exception):
    """A submitted label the page answers with a 400 and this one-line reason."""


@dataclass
class LabelSession:
    """Packets to label, where the labels go, and who is labelling."""

    ladder: Ladder
    calibrator: str
    out: Path
    packet_files: dict[str, Path]
    blind: bool = False
    _packets: dict[str, Packet] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return sorted(self.packet_files)

    def packet(self, packet_id: str) -> Packet:
        if packet_id not in self._packets:
            self._packets[packet_id] = load_packet(self.packet_files[packet_id])
        return self._packets[packet_id]

    def records(self) -> list[dict[str, Any]]:
        """Every label in the output file, as JSON objects, in file order."""
        return [json.loads(line) for line in _lines(self.out)]

    def mine(self) -> dict[str, dict[str, Any]]:
        return {r["packet_id"]: r for r in self.records() if r["calibrator"] == self.calibrator}

    def others(self, packet_id: str) -> list[dict[str, Any]]:
        """Other calibrators' labels of a packet; none at all with ``--blind``."""
        if self.blind:
            return []
        return [r for r in self.records()
                if r["packet_id"] == packet_id and r["calibrator"] != self.calibrator]

    def progress(self) -> tuple[int, int]:
        done = set(self.mine())
        return sum(1 for pid in self.ids if pid in done), len(self.ids)

    def next_unlabelled(self, after: str | None = None) -> str | None:
        """The first packet (after ``after``, wrapping round) this calibrator has not labelled."""
        done = set(self.mine())
        ids = self.ids
        start = ids.index(after) + 1 if after in ids else 0
        for pid in ids[start:] + ids[:start]:
            if pid not in done:
                return pid
        return None

    def save(self, packet_id: str, submitted: Any) -> dict[str, Any]:
        """Check a label the page sent, then write it into the labels file atomically.

        Raises:
            LabelRejected: the label is incomplete or names text that is not evidence.
        """
        record = self._record(packet_id, submitted)
        line = json.dumps(record, ensure_ascii=False)
        lines, replaced = [], False
        for old in _lines(self.out):
            obj = json.loads(old)
            if (obj["packet_id"], obj["calibrator"]) == (packet_id, self.calibrator):
                lines.append(line)
                replaced = True
            else:
                lines.append(old)
        if not replaced:
            lines.append(line)
        _write_checked(self.out, lines, self.ladder)
        return record

    def _record(self, packet_id: str, sub: Any) -> dict[str, Any]:
        if packet_id not in self.packet_files:
            raise LabelRejected(f"unknown packet {packet_id!r}")
        if not isinstance(sub, dict) or not isinstance(sub.get("dimensions"), dict):
            raise LabelRejected("a label must be an object with dimensions")
        packet = self.packet(packet_id)
        dims = {}
        for d in self.ladder.dimension_ids:
            given = sub["dimensions"].get(d)
            if not isinstance(given, dict):
                raise LabelRejected(f"{self.ladder.dimension(d).name}: no level chosen")
            dims[d] = {"level": given.get("level"),
                       "evidence": _quotes(packet, given.get("evidence"), self.ladder, d)}
        target = sub.get("target_level") or None
        return {"packet_id": packet_id, "calibrator": self.calibrator, "target_level": target,
                "level": sub.get("level"), "dimensions": dims,
                "flags": sub.get("flags") if isinstance(sub.get("flags"), list) else [],
                "notes": sub.get("notes") if isinstance(sub.get("notes"), str) else ""}


def _quotes(packet: Packet, spans: Any, ladder: Ladder, dim: str) -> list[str]:
    """The canonical text of each submitted ``{start, end}`` span, whitespace trimmed."""
    name = ladder.dimension(dim).name
    if not isinstance(spans, list):
        raise LabelRejected(f"{name}: evidence must be a list of spans")
    text, quotes = packet.text, []
    for span in spans:
        start, end = (span.get("start"), span.get("end")) if isinstance(span, dict) else (None, None)
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            raise LabelRejected(f"{name}: an evidence span is outside the packet text")
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            raise LabelRejected(f"{name}: an evidence span is only whitespace")
        if packet.is_hidden(start, end):
            # Hidden text (comments, styled-hidden) is never evidence.
            raise LabelRejected(f"{name}: the selection includes hidden text, which is never evidence")
        if text[start:end] not in quotes:
            quotes.append(text[start:end])
    return quotes


def _lines(path: Path) -> list[str]:
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [line for line in raw.splitlines() if line.strip()]


def _write_checked(out: Path, lines: list[str], ladder: Ladder) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(f"{line}\n" for line in lines))
            fh.flush()
            os.fsync(fh.fileno())
        problems = parse_labels(tmp, ladder).problems
        if problems:
            raise LabelRejected(problems[0].message)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def _packet_folder(directory: Path) -> Path:
    if not directory.is_dir():
        raise DatasetError("packets directory not found", directory)
    # A dataset in the golden layout keeps its packets in packets/.
    return directory / "packets" if (directory / "packets").is_dir() else directory


def _find_packets(directory: Path) -> dict[str, Path]:
    folder = _packet_folder(directory)
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith(".") \
                and path.suffix.lower() in SUPPORTED_SUFFIXES:
            files.setdefault(packet_id_for(path), path)
    if not files:
        raise DatasetError(f"no packet files here ({' '.join(SUPPORTED_SUFFIXES)})", folder)
    return files


def _check_writable(out: Path) -> None:
    if out.is_dir():
        raise DatasetError("--out is a directory; give a labels .jsonl file", out)
    if not out.parent.is_dir():
        raise DatasetError("cannot write labels here: the folder does not exist", out)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
        os.close(fd)
        os.unlink(tmp)
        if out.exists():
            with out.open("a", encoding="utf-8"):
                pass
    except OSError as exc:
        raise DatasetError(f"cannot write labels here ({exc.strerror})", out) from None


def _check_existing(out: Path, ladder: Ladder) -> None:
    try:
        if not out.exists() or not _lines(out):
            return
    except UnicodeDecodeError:
        raise DatasetError("labels file is not UTF-8", out) from None
    wanted = set(ladder.dimension_ids)
    for n, line in enumerate(out.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            obj = json.loads(line) if line.strip() else {}
        except json.JSONDecodeError:
            continue  # parse_labels below names it
        dims = obj.get("dimensions") if isinstance(obj, dict) else None
        if isinstance(dims, dict) and set(dims) != wanted:
            raise DatasetError(f"line {n}: these labels are for another ladder (dimensions "
                               f"{', '.join(sorted(dims))}; ladder {ladder.id!r} has "
                               f"{', '.join(ladder.dimension_ids)}); use its --ladder", out)
    parse_labels(out, ladder).valid_labels()


def open_session(packets_dir: str | Path, calibrator: str, out: str | Path, ladder: Ladder,
                 *, blind: bool = False) -> LabelSession:
    """Check the inputs of ``packet-eval label`` and return the session to serve.

    Raises:
        DatasetError: no such folder, no packets in it, an output that cannot be
            written, or an existing labels file that is malformed or for another ladder.
    """
    if not calibrator.strip():
        raise DatasetError("--calibrator must be a non-empty name")
    files = _find_packets(Path(packets_dir))
    out = Path(out)
    _check_writable(out)
    _check_existing(out, ladder)
    session = LabelSession(ladder, calibrator.strip(), out, files, blind=blind)
    for pid in session.ids:
        try:
            session.packet(pid)
        except PacketEvalError as exc:
            raise DatasetError(str(exc)) from None
    return session


__all__ = ["LabelRejected", "LabelSession", "open_session"]
