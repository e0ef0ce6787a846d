"""packet-eval: grounded evidence from AI-engineering promotion packets.

Public API::

    import packet_eval
    a = packet_eval.assess("packet.md", target_level="senior")   # offline baseline without a key
    a.level, a.dimensions["eval_design"].evidence[0].quote

The command line (``packet_eval.cli``) imports only the names listed here. The
core (assess, packets, ladders, the Assessment) loads at once; the rest (batch
runs, reports, datasets, the eval gate, the web app) loads on first use, so
``import packet_eval`` and the CLI's start stay fast. The ``TYPE_CHECKING``
imports below are the same names, for type checkers and readers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from packet_eval.api import (
    assess,
    assess_async,
    check_target_level,
    default_model,
    resolve_model,
)
from packet_eval.errors import ConfigError, DatasetError, PacketEvalError
from packet_eval.ladder import Ladder, load_ladder
from packet_eval.packet import (
    Packet,
    load_packet,
    packet_from_text,
    read_packet,
    unchanged_packet_text,
)
from packet_eval.schema import Assessment, read_assessments

if TYPE_CHECKING:
    from packet_eval.agreement.ceiling import aggregation_ceiling
    from packet_eval.agreement.rulefit import TooFewLabels, fit_rule, fitted_ladder_yaml
    from packet_eval.batch import EXIT_OK, BatchSummary, run_batch
    from packet_eval.dataset import check_dataset, dataset_stats, load_dataset, parse_labels
    from packet_eval.diff import diff_assessments, format_diff, render_diff_text
    from packet_eval.evaluation.gate import compare_markdown as compare_logs_markdown
    from packet_eval.evaluation.gate import gate_markdown, run_gate
    from packet_eval.evaluation.gate import read_summary as read_log_summary
    from packet_eval.evaluation.gate import update_baseline as update_gate_baseline
    from packet_eval.evaluation.probe_summary import probe_summary_markdown, read_probe_summary
    from packet_eval.ladder import parse_ladder
    from packet_eval.redact.roster import read_roster
    from packet_eval.render import render_html, render_markdown, render_text
    from packet_eval.report.agreement_text import render_markdown as render_agreement_markdown
    from packet_eval.report.agreement_text import render_text as render_agreement_text
    from packet_eval.report.calibration import compare
    from packet_eval.serve import (
        DEFAULT_HOST,
        DEFAULT_PORT,
        allowed_hosts_for,
        create_app,
        exposure_warning,
        is_loopback,
        listen_socket,
        server_url,
    )
    from packet_eval.serve.labelling import create_label_app
    from packet_eval.serve.labelling import open_session as open_label_session
    from packet_eval.store import Store

# name -> (module, attribute there): the lazily loaded part of the API.
_LAZY: dict[str, tuple[str, str]] = {
    **{n: ("packet_eval.batch", n) for n in ("EXIT_OK", "BatchSummary", "run_batch")},
    **{n: ("packet_eval.dataset", n) for n in ("check_dataset", "dataset_stats", "load_dataset")},
    **{n: ("packet_eval.diff", n) for n in ("diff_assessments", "format_diff", "render_diff_text")},
    "compare_logs_markdown": ("packet_eval.evaluation.gate", "compare_markdown"),
    "gate_markdown": ("packet_eval.evaluation.gate", "gate_markdown"),
    "read_log_summary": ("packet_eval.evaluation.gate", "read_summary"),
    "run_gate": ("packet_eval.evaluation.gate", "run_gate"),
    "update_gate_baseline": ("packet_eval.evaluation.gate", "update_baseline"),
    **{n: ("packet_eval.evaluation.probe_summary", n)
       for n in ("probe_summary_markdown", "read_probe_summary")},
    "parse_labels": ("packet_eval.dataset", "parse_labels"),
    **{n: ("packet_eval.render", n) for n in ("render_html", "render_markdown", "render_text")},
    "render_agreement_markdown": ("packet_eval.report.agreement_text", "render_markdown"),
    "render_agreement_text": ("packet_eval.report.agreement_text", "render_text"),
    "compare": ("packet_eval.report.calibration", "compare"),
    **{n: ("packet_eval.serve", n) for n in (
        "DEFAULT_HOST", "DEFAULT_PORT", "allowed_hosts_for", "create_app", "exposure_warning",
        "is_loopback", "listen_socket", "server_url")},
    "Store": ("packet_eval.store", "Store"),
    # Calibrating to a committee: the aggregation ceiling and the fitted level rule.
    "aggregation_ceiling": ("packet_eval.agreement.ceiling", "aggregation_ceiling"),
    "parse_ladder": ("packet_eval.ladder", "parse_ladder"),
    "read_roster": ("packet_eval.redact.roster", "read_roster"),
    **{n: ("packet_eval.agreement.rulefit", n) for n in ("TooFewLabels", "fit_rule", "fitted_ladder_yaml")},
    "create_label_app": ("packet_eval.serve.labelling", "create_label_app"),
    "open_label_session": ("packet_eval.serve.labelling", "open_session"),
}

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "EXIT_OK",
    "Assessment",
    "BatchSummary",
    "ConfigError",
    "DatasetError",
    "Ladder",
    "Packet",
    "PacketEvalError",
    "Store",
    "TooFewLabels",
    "aggregation_ceiling",
    "allowed_hosts_for",
    "assess",
    "assess_async",
    "check_dataset",
    "check_target_level",
    "compare",
    "compare_logs_markdown",
    "create_app",
    "create_label_app",
    "dataset_stats",
    "default_model",
    "diff_assessments",
    "exposure_warning",
    "fit_rule",
    "fitted_ladder_yaml",
    "format_diff",
    "gate_markdown",
    "is_loopback",
    "load_dataset",
    "listen_socket",
    "load_ladder",
    "load_packet",
    "open_label_session",
    "packet_from_text",
    "parse_ladder",
    "parse_labels",
    "probe_summary_markdown",
    "read_assessments",
    "read_log_summary",
    "read_packet",
    "read_probe_summary",
    "read_roster",
    "render_agreement_markdown",
    "render_agreement_text",
    "render_diff_text",
    "render_html",
    "render_markdown",
    "render_text",
    "resolve_model",
    "run_batch",
    "run_gate",
    "server_url",
    "unchanged_packet_text",
    "update_gate_baseline",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'packet_eval' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value  # later lookups skip this hook
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
