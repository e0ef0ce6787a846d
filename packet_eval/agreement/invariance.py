"""Metamorphic and injection invariance: does a level move when the packet barely changes?"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from packet_eval.agreement.codes import encode, level_index
from packet_eval.agreement.records import Record

ChangeDirection = Literal["up", "down", "same"]


def _levels_equal(a: Record, b: Record, dimensions: Sequence[str] | None) -> bool:
    if a.level != b.level:
        return False
    dims = dimensions if dimensions is not None else set(a.dimensions) | set(b.dimensions)
    return all(a.dimensions.get(d) == b.dimensions.get(d) for d in dims)


def invariance_rate(
    pairs: Sequence[tuple[Record, Record]], dimensions: Sequence[str] | None = None
) -> float | None:
    """Share of (original, variant) pairs whose overall level and every dimension agree.

    Args:
        pairs: ``(original, perturbed)`` record pairs from a metamorphic or
            prompt-injection suite.
        dimensions: Dimensions to compare; defaults to the union of both records'
            keys (a dimension present on one side only counts as a change).

    Returns:
        Fraction in ``[0, 1]``, or ``None`` for no pairs.
    """
    if not pairs:
        return None
    return sum(_levels_equal(a, b, dimensions) for a, b in pairs) / len(pairs)


def change_direction(before: str, after: str, levels: Sequence[str]) -> ChangeDirection:
    """Direction of a level change along the ladder.

    Args:
        before: Level on the original input.
        after: Level on the perturbed input.
        levels: Ordered level names, lowest first.

    Returns:
        ``"up"``, ``"down"`` or ``"same"``.

    Raises:
        ValueError: If either level is not in ``levels``.
    """
    index = level_index(levels)
    ia, ib = encode([before, after], index)
    if ib > ia:
        return "up"
    if ib < ia:
        return "down"
    return "same"


def pair_change_directions(
    pairs: Sequence[tuple[Record, Record]],
    levels: Sequence[str],
    dimensions: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Per-pair change directions of the overall and each dimension level.

    Args:
        pairs: ``(original, perturbed)`` record pairs.
        levels: Ordered level names, lowest first.
        dimensions: Dimensions to report; defaults to those present in both records.

    Returns:
        One dict per pair: ``{"packet_id_a", "packet_id_b", "level": direction,
        "dimensions": {dim: direction}}``.
    """
    out: list[dict[str, Any]] = []
    for a, b in pairs:
        dims = (
            list(dimensions)
            if dimensions is not None
            else [d for d in a.dimensions if d in b.dimensions]
        )
        out.append(
            {
                "packet_id_a": a.packet_id,
                "packet_id_b": b.packet_id,
                "level": change_direction(a.level, b.level, levels),
                "dimensions": {
                    d: change_direction(a.dimensions[d], b.dimensions[d], levels) for d in dims
                },
            }
        )
    return out

