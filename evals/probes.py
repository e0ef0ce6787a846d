"""Re-export of the packaged task: run ``inspect eval packet_eval/probes`` (see its module)."""

from packet_eval.evaluation.probes_task import packet_probes_task as probes  # noqa: F401
