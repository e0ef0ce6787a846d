"""The exceptions packet-eval raises for problems a user can fix.

Every message is one line that names the file or setting at fault and says what
to do. The CLI prints ``str(exc)`` and exits non-zero; library callers and tests
can let these raise. Anything that is not a ``PacketEvalError`` is a bug.
"""

from __future__ import annotations

from pathlib import Path


class PacketEvalError(Exception):
    """Base class: a problem with the user's input, configuration or provider."""

    exit_code = 1

    def __init__(self, message: str, path: str | Path | None = None) -> None:
        self.path = str(path) if path is not None else None
        super().__init__(f"{self.path}: {message}" if self.path else message)


class PacketError(PacketEvalError):
    """A packet file cannot be read as text (empty, binary, encoding, size, encryption)."""


class LadderError(PacketEvalError):
    """A ladder file is malformed."""


class DatasetError(PacketEvalError):
    """A golden dataset or labels file is malformed."""


class ConfigError(PacketEvalError):
    """A missing key, unknown model string or invalid option."""


class ProviderError(PacketEvalError):
    """The LLM provider failed in a way retries could not fix."""


class BudgetExceeded(PacketEvalError):
    """A run stopped before spending more than ``--max-cost``."""
