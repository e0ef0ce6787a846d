"""Measuring packet-eval against calibrators: reference extractors, the inspect task, the CI gate.

Importing this package does not import inspect-ai; ``inspect_task`` does.
"""
