"""Measuring packet-eval against calibrators: the inspect tasks, reference extractors, the CI gate.

The tasks (``tasks.py``) are registered through the ``inspect_ai`` entry point,
so ``inspect eval packet_eval/packet_extraction`` works wherever the wheel is
installed; their data (injection forms, the sample packet) is package data.
Importing this package does not import inspect-ai; the task modules do.
"""
