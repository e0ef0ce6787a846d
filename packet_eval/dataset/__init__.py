"""Golden datasets and calibrator labels: the data the harness and ``packet-eval agreement`` score against.

``labels`` parses the one-line-per-(packet, calibrator) labels format, which
serves the golden dataset and a committee's own calibrations alike; ``golden``
loads and checks a directory in the golden layout.
"""

from packet_eval.dataset.golden import (
    TWIN_SUFFIX,
    GoldenDataset,
    check_dataset,
    dataset_stats,
    load_dataset,
)
from packet_eval.dataset.labels import DimensionLabel, Label, ParsedLabels, Problem, parse_labels

__all__ = [
    "TWIN_SUFFIX",
    "DimensionLabel",
    "GoldenDataset",
    "Label",
    "ParsedLabels",
    "Problem",
    "check_dataset",
    "dataset_stats",
    "load_dataset",
    "parse_labels",
]
