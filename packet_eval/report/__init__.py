"""Reports over a whole run: the committee's HTML report and its calibration comparison."""

from packet_eval.report.calibration import Calibration, compare, pick_labels
from packet_eval.report.committee import write_committee_report

__all__ = ["Calibration", "compare", "pick_labels", "write_committee_report"]
