"""The ``--max-cost`` ceiling: a check before the run and a running check during it.

Before: the estimate for every packet not served from the cache (see
``jobs.Estimator``) is compared with the ceiling; over it, the run refuses
to start unless some packets are cached (those cost nothing, and the running
check then stops before the ceiling).

During: a packet may start only if the actual spend so far, plus what in-flight
packets are expected to cost, plus its own expected cost stays within the
ceiling. Expected costs are the estimates scaled by how far actual spend has run
above estimates so far (never scaled down), so a model that answers longer than
estimated makes the check stricter as the run goes. When a packet may not start,
no further packet starts, in-flight ones finish, and the run records why it stopped.
Failed packets count what their calls cost, read from the call log (``Store.logged_cost``).
"""

from __future__ import annotations

from dataclasses import dataclass

from packet_eval.errors import BudgetExceeded


@dataclass
class Budget:
    max_usd: float | None
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    _est_settled: float = 0.0
    _actual_settled: float = 0.0

    def expected(self, estimate: float) -> float:
        ratio = self._actual_settled / self._est_settled if self._est_settled > 0 else 1.0
        return estimate * max(1.0, ratio)

    def try_reserve(self, estimate: float) -> float | None:
        """Reserve the expected cost of a packet about to start; None if it would not fit."""
        if self.max_usd is None or estimate <= 0:
            return 0.0
        need = self.expected(estimate)
        if self.spent_usd + self.reserved_usd + need > self.max_usd:
            return None
        self.reserved_usd += need
        return need

    def settle(self, reserved: float, estimate: float, actual: float) -> None:
        self.reserved_usd = max(0.0, self.reserved_usd - reserved)
        self.spent_usd += actual
        if estimate > 0:
            self._est_settled += estimate
            self._actual_settled += actual

    @property
    def remaining_usd(self) -> float | None:
        return None if self.max_usd is None else max(0.0, self.max_usd - self.spent_usd)


def check_before_run(max_usd: float | None, estimate_usd: float, *, uncached: int, cached: int,
                     priced: bool, model: str, batch_discount: float | None = None) -> None:
    """Raise BudgetExceeded (or for an unpriced model, refuse) before any money is spent."""
    if max_usd is None or uncached == 0:
        return
    if not priced:
        raise BudgetExceeded(
            f"--max-cost: no price is known for {model}, so spend cannot be checked; "
            "run without --max-cost")
    if estimate_usd > max_usd and cached == 0:
        how = " with the Batch API discount" if batch_discount else ""
        raise BudgetExceeded(
            f"estimated cost ${estimate_usd:.2f}{how} for {uncached} packet(s) exceeds --max-cost "
            f"${max_usd:.2f}; raise --max-cost, assess fewer packets"
            + ("" if batch_discount else ", or use --batch-api (about half price)"))
