"""Re-export of the packaged task: run ``inspect eval packet_eval/packet_extraction`` (see its module)."""

from packet_eval.evaluation.inspect_task import packet_extraction_task as packet_extraction  # noqa: F401
