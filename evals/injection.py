"""Re-export of the packaged task: run ``inspect eval packet_eval/injection`` (see its module)."""

from packet_eval.evaluation.injection_suite import injection_task as injection  # noqa: F401
