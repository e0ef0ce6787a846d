"""Split long packets at section boundaries so evidence is found wherever it sits.

Models under-read the middle of long contexts, so a packet above the token
budget is cut into chunks of whole sections (a section too big on its own is
cut at paragraph, then line, boundaries). Each chunk after the first repeats
the last few lines of the previous one for context. Tokens are estimated at
four characters each, which is close for English prose and errs towards
smaller chunks for anything denser.
"""

from __future__ import annotations

from dataclasses import dataclass

from packet_eval.packet import Packet

CHARS_PER_TOKEN = 4
DEFAULT_TOKEN_BUDGET = 4000
OVERLAP_CHARS = 300


@dataclass(frozen=True)
class Chunk:
    start: int  # first character this chunk is responsible for
    end: int
    context_start: int  # where the text sent to the model begins (<= start)


def estimate_tokens(text: str) -> int:
    return -(-len(text) // CHARS_PER_TOKEN)


def _pieces(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut [start, end) into pieces no longer than ``limit`` at the coarsest boundary that works."""
    if end - start <= limit:
        return [(start, end)]
    for sep in ("\n\n", "\n", ". ", " "):
        cuts = [start]
        pos = text.find(sep, start, end)
        while pos != -1:
            cuts.append(pos + len(sep))
            pos = text.find(sep, pos + len(sep), end)
        cuts.append(end)
        spans = [(a, b) for a, b in zip(cuts, cuts[1:], strict=False) if b > a]
        if all(b - a <= limit for a, b in spans):
            return spans
    return [(i, min(i + limit, end)) for i in range(start, end, limit)]


def chunk_packet(packet: Packet, token_budget: int = DEFAULT_TOKEN_BUDGET) -> list[Chunk]:
    text = packet.text
    limit = max(200, token_budget * CHARS_PER_TOKEN)
    if len(text) <= limit:
        return [Chunk(0, len(text), 0)]
    sections = packet.sections or ()
    bounds = [(s.start, s.end) for s in sections] or [(0, len(text))]
    if bounds[0][0] > 0:
        bounds.insert(0, (0, bounds[0][0]))
    pieces = [p for a, b in bounds for p in _pieces(text, a, b, limit)]
    chunks: list[tuple[int, int]] = []
    cur_start, cur_end = pieces[0]
    for a, b in pieces[1:]:
        if b - cur_start <= limit:
            cur_end = b
        else:
            chunks.append((cur_start, cur_end))
            cur_start, cur_end = a, b
    chunks.append((cur_start, cur_end))
    out = []
    for i, (a, b) in enumerate(chunks):
        ctx = a
        if i > 0:
            ctx = max(chunks[i - 1][0], a - OVERLAP_CHARS)
            nl = text.find("\n", ctx, a)
            ctx = nl + 1 if nl != -1 else a
        out.append(Chunk(a, b, ctx))
    return out
