"""The harness's inspect tasks, found by inspect through the ``inspect_ai`` entry point.

``pyproject.toml`` names this module under ``[project.entry-points.inspect_ai]``,
so wherever the wheel is installed ``inspect eval packet_eval/<task>`` finds::

    packet_eval/packet_extraction   agreement with the golden calibrators (inspect_task.py)
    packet_eval/injection           the prompt-injection suite (injection_suite.py)
    packet_eval/probes              the metamorphic probes (probes_task.py)

Each takes ``-T dataset=DIR``, any directory in the golden layout; nothing is
read from the source tree.
"""

from packet_eval.evaluation.injection_suite import injection_task
from packet_eval.evaluation.inspect_task import packet_extraction_task
from packet_eval.evaluation.probes_task import packet_probes_task

__all__ = ["injection_task", "packet_extraction_task", "packet_probes_task"]
