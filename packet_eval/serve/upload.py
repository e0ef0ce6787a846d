"""Reading the upload form without letting a packet touch disk outside a temp dir.

A packet can hold personal data and unreleased work, so the request body is
counted as it streams and refused once it passes the limit; file parts are kept
in memory (never spooled to the system temp dir); and the one file written, so
that ``load_packet`` can read .docx/.pdf/.html like the CLI does, lives in a
``TemporaryDirectory`` that is removed before the assessment starts.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import FormParser, MultiPartException, MultiPartParser
from starlette.requests import Request

from packet_eval.errors import PacketError
from packet_eval.packet import SUPPORTED_SUFFIXES, Packet, load_packet, packet_from_text

# Room for the form's other fields and multipart boundaries on top of the file itself.
FORM_OVERHEAD = 64 * 1024


class UploadRejected(Exception):
    """A request the page answers with an in-page error and a 4xx status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


@dataclass(frozen=True)
class Submission:
    """What the form asked for: a file or pasted text, a target level and a model."""

    target_level: str
    model: str
    text: str = ""
    filename: str = ""
    data: bytes | None = None


class _InMemoryMultiPartParser(MultiPartParser):
    # 0 means "never roll over to disk": the stream limit already bounds memory.
    spool_max_size = 0


def too_large(limit: int, size: int | None = None, *, declared: bool = False) -> UploadRejected:
    got = "is larger than that" if size is None else f"is {'about ' if declared else ''}{size:,} bytes"
    return UploadRejected(413, "File too large",
                          f"Uploads are limited to {limit:,} bytes and this one {got}. "
                          "Trim the packet, or paste only the part you want assessed.")


async def _limited(stream: AsyncIterator[bytes], limit: int, max_bytes: int
                   ) -> AsyncGenerator[bytes, None]:
    seen = 0
    async for chunk in stream:
        seen += len(chunk)
        if seen > limit:
            raise too_large(max_bytes)
        yield chunk


async def read_submission(request: Request, max_bytes: int) -> Submission:
    """Parse the upload form, refusing bodies over ``max_bytes`` (plus form overhead).

    Raises:
        UploadRejected: the body is too large, not a form, or malformed.
    """
    limit = max_bytes + FORM_OVERHEAD
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        # Refuse before reading a byte of the body.
        raise too_large(max_bytes, int(declared), declared=True)
    ctype = request.headers.get("content-type", "")
    stream = _limited(request.stream(), limit, max_bytes)
    parser: FormParser | MultiPartParser
    if ctype.startswith("multipart/form-data"):
        parser = _InMemoryMultiPartParser(request.headers, stream, max_files=1, max_fields=10,
                                          max_part_size=limit)
    elif ctype.startswith("application/x-www-form-urlencoded"):
        parser = FormParser(request.headers, stream, max_fields=10, max_part_size=limit)
    else:
        raise UploadRejected(415, "Not a form upload",
                             "Send the packet with the page's form (multipart/form-data).")
    try:
        form = await parser.parse()
    except MultiPartException as exc:
        raise UploadRejected(400, "Could not read the form", exc.message) from None
    try:
        upload = form.get("file")
        data, filename = None, ""
        if isinstance(upload, UploadFile) and upload.filename:
            data, filename = await upload.read(), upload.filename
            if len(data) > max_bytes:
                raise too_large(max_bytes, len(data))
        text = form.get("text")
        text = text if isinstance(text, str) else ""
        if data is None and len(text.encode("utf-8")) > max_bytes:
            raise too_large(max_bytes, len(text.encode("utf-8")))
        return Submission(target_level=str(form.get("target_level") or ""),
                          model=str(form.get("model") or ""), text=text, filename=filename,
                          data=data)
    finally:
        await form.close()


def _unreadable(what: str, exc: PacketError) -> UploadRejected:
    # PacketError names the temp path; the engineer only knows their own file name.
    reason = str(exc).removeprefix(f"{exc.path}: ") if exc.path else str(exc)
    return UploadRejected(422, "Could not read this packet", f"{what}: {reason}.")


def safe_filename(name: str) -> str:
    """The uploaded name reduced to a plain file name: no directories, no odd characters."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", base).strip(".-")[:120]
    return base or "packet"


async def packet_from_submission(sub: Submission) -> Packet:
    """Turn a submission into a Packet, reading files exactly as the CLI does.

    Raises:
        UploadRejected: nothing was given, or the file type is not supported.
        PacketError: the file is empty, binary, not UTF-8, encrypted or unreadable.
    """
    if sub.data is None:
        if not sub.text.strip():
            raise UploadRejected(400, "Nothing to assess",
                                 "Choose a packet file or paste the packet text.")
        try:
            return packet_from_text(sub.text, packet_id="pasted-packet", source="<pasted text>")
        except PacketError as exc:
            raise _unreadable("The pasted text", exc) from None
    name = safe_filename(sub.filename)
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        kind = suffix or "(no extension)"
        raise UploadRejected(415, "Unsupported file type",
                             f"{sub.filename}: '{kind}' files cannot be read. Upload one of "
                             f"{', '.join(SUPPORTED_SUFFIXES)}, or paste the text.")
    with tempfile.TemporaryDirectory(prefix="packet-eval-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(sub.data)
        try:
            packet = await run_in_threadpool(load_packet, path)
        except PacketError as exc:
            raise _unreadable(sub.filename, exc) from None
    # The temp path is gone; name the packet by what the engineer uploaded.
    return dataclasses.replace(packet, source=sub.filename)
