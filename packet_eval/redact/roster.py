"""A committee's roster: names that are always masked, read from a file of one name per line."""

from __future__ import annotations

from pathlib import Path

from packet_eval.errors import ConfigError


def read_roster(path: str | Path) -> tuple[str, ...]:
    """The names in ``path``, in order, once each; blank lines and ``#`` comments are skipped.

    Raises a one-line ConfigError naming the file when it is missing, a folder,
    unreadable, not UTF-8, or holds no name.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"roster {p}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"roster {p}: is a folder, not a file of names") from None
    except OSError as exc:
        raise ConfigError(f"roster {p}: cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"roster {p}: not UTF-8 text") from None
    names = [line.strip() for line in text.splitlines()]
    names = [n for n in names if n and not n.startswith("#")]
    if not names:
        raise ConfigError(f"roster {p}: holds no names (write one name per line)")
    return tuple(dict.fromkeys(names))
