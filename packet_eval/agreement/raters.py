"""Agreement among raters: calibrator-versus-calibrator ceilings and an extractor against itself.

:func:`pairwise_rater_agreement` gives every pair of raters a full agreement
report on the packets both labelled; :func:`self_consistency` treats repeated
runs (epochs) of one extractor as raters. Both return typed values with a
``to_dict()`` for JSON.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from packet_eval.agreement.alpha import krippendorff_alpha
from packet_eval.agreement.build import agreement_report
from packet_eval.agreement.codes import level_index
from packet_eval.agreement.records import Record
from packet_eval.agreement.report import AgreementReport


@dataclass(frozen=True)
class RaterPair:
    """Two raters on the packets both labelled; ``report`` is ``None`` when they share none."""

    rater_a: str
    rater_b: str
    n_packets: int
    report: AgreementReport | None

    def to_dict(self) -> dict[str, Any]:
        return {"rater_a": self.rater_a, "rater_b": self.rater_b, "n_packets": self.n_packets,
                "report": self.report.to_dict() if self.report else None}


@dataclass(frozen=True)
class RaterAgreement:
    """Every pair of raters, and alpha across all of them.

    Attributes:
        raters: Rater names in the caller's order.
        pairs: One entry per pair, the first rater (in order) in the gold role.
        alpha_ordinal_all_raters: Krippendorff alpha of overall levels across all
            raters over the union of packets (missing = unlabelled), or ``None``.
    """

    raters: list[str]
    pairs: list[RaterPair]
    alpha_ordinal_all_raters: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"raters": list(self.raters), "pairs": [p.to_dict() for p in self.pairs],
                "alpha_ordinal_all_raters": self.alpha_ordinal_all_raters}


def _by_id(records: Sequence[Record], duplicate: str) -> dict[str, Record]:
    out: dict[str, Record] = {}
    for r in records:
        if r.packet_id in out:
            raise ValueError(f"duplicate packet_id {r.packet_id!r} {duplicate}")
        out[r.packet_id] = r
    return out


def pairwise_rater_agreement(
    records_by_rater: Mapping[str, Sequence[Record]],
    *,
    levels: Sequence[str],
    dimensions: Sequence[str],
    flags: Sequence[str] = (),
    n_boot: int = 1000,
    seed: int = 0,
) -> RaterAgreement:
    """Agreement between every pair of raters on the packets both labelled.

    Intended for calibrator-vs-calibrator ceilings: each pair gets a full
    agreement report with the first rater (in mapping order) in the gold role,
    so asymmetric metrics (evidence recall/precision, flag P/R) read "rater_b
    against rater_a".

    Args:
        records_by_rater: Rater name -> that rater's records.
        levels: Ordered level names, lowest first.
        dimensions: Dimension ids to score.
        flags: Flag names to score.
        n_boot: Bootstrap replicates per pair.
        seed: Bootstrap seed.

    Returns:
        The pairs and the all-rater alpha.

    Raises:
        ValueError: On duplicate packet ids within a rater or an unknown level.
    """
    raters = list(records_by_rater)
    by_rater = {name: _by_id(records_by_rater[name], f"for rater {name!r}") for name in raters}
    pairs: list[RaterPair] = []
    for a, b in itertools.combinations(raters, 2):
        shared = [pid for pid in by_rater[a] if pid in by_rater[b]]
        report = agreement_report(
            [by_rater[a][pid] for pid in shared], [by_rater[b][pid] for pid in shared],
            levels=levels, dimensions=dimensions, flags=flags, n_boot=n_boot, seed=seed,
        ) if shared else None
        pairs.append(RaterPair(a, b, len(shared), report))
    units = list(dict.fromkeys(pid for name in raters for pid in by_rater[name]))
    matrix: list[list[str | None]] = [
        [by_rater[name][pid].level if pid in by_rater[name] else None for pid in units]
        for name in raters
    ]
    alpha = krippendorff_alpha(matrix, levels, "ordinal") if units else None
    return RaterAgreement(raters=raters, pairs=pairs, alpha_ordinal_all_raters=alpha)


@dataclass(frozen=True)
class Consistency:
    """Agreement of repeated runs on one kind of rating (overall level, or dimension cells).

    Attributes:
        mean_pairwise_exact: Mean over epoch pairs of the exact agreement on the
            units both epochs cover (``None`` with fewer than two epochs).
        alpha_ordinal: Krippendorff alpha, epochs as raters.
    """

    mean_pairwise_exact: float | None
    alpha_ordinal: float | None


@dataclass(frozen=True)
class SelfConsistency:
    """An extractor against itself across epochs.

    Attributes:
        n_epochs: Runs compared.
        n_packets: Packets in any run.
        level: Consistency of the overall level.
        dimensions: Consistency over pooled (packet, dimension) cells, or ``None``
            when dimensions were not asked for.
    """

    n_epochs: int
    n_packets: int
    level: Consistency
    dimensions: Consistency | None

    def to_dict(self) -> dict[str, Any]:
        """Flat JSON: the level's figures, then ``dimension_``-prefixed ones when scored."""
        out: dict[str, Any] = {"n_epochs": self.n_epochs, "n_packets": self.n_packets,
                               **asdict(self.level)}
        if self.dimensions is not None:
            out.update({f"dimension_{k}": v for k, v in asdict(self.dimensions).items()})
        return out


def _consistency(maps: list[dict[str, Record]], cells: list[tuple[str, str | None]],
                 levels: Sequence[str]) -> Consistency:
    # cells: (packet_id, dimension or None for the overall level)
    def value(m: dict[str, Record], pid: str, dim: str | None) -> str | None:
        r = m.get(pid)
        if r is None:
            return None
        return r.level if dim is None else r.dimensions.get(dim)

    matrix = [[value(m, pid, dim) for pid, dim in cells] for m in maps]
    rates: list[float] = []
    for ra, rb in itertools.combinations(matrix, 2):
        both = [(x, y) for x, y in zip(ra, rb, strict=True) if x is not None and y is not None]
        if both:
            rates.append(sum(x == y for x, y in both) / len(both))
    return Consistency(mean_pairwise_exact=float(np.mean(rates)) if rates else None,
                       alpha_ordinal=krippendorff_alpha(matrix, levels, "ordinal"))


def self_consistency(
    epochs: Sequence[Sequence[Record]],
    levels: Sequence[str],
    dimensions: Sequence[str] | None = None,
) -> SelfConsistency:
    """Agreement of an extractor with itself across repeated runs (epochs).

    Packets are aligned by ``packet_id``; a packet missing from some epochs is treated
    as a missing rating.

    Args:
        epochs: One sequence of records per run over the same packets.
        levels: Ordered level names, lowest first.
        dimensions: If given, also score dimension levels, pooling every
            (packet, dimension) cell as one unit.

    Returns:
        Consistency of the overall level, and of dimensions when asked for.

    Raises:
        ValueError: On duplicate packet ids within an epoch or an unknown level.
    """
    level_index(levels)
    maps = [_by_id(recs, f"in epoch {e}") for e, recs in enumerate(epochs)]
    units = list(dict.fromkeys(pid for m in maps for pid in m))
    level = _consistency(maps, [(pid, None) for pid in units], levels)
    dims = None
    if dimensions is not None:
        dims = _consistency(maps, [(pid, d) for pid in units for d in dimensions], levels)
    return SelfConsistency(n_epochs=len(maps), n_packets=len(units), level=level, dimensions=dims)
