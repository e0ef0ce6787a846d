"""The packet delimiter's marker code: unpredictable to a packet's author, stable for its work.

The code is an HMAC of the packet's sha256 under a per-installation secret kept in
the state directory (``delimiter.key``, 32 random bytes, created 0600 on first use).
A packet's author cannot compute it, so no text in a packet can close the data block
(a code derived from the packet alone, such as its hash prefix, can be forged by brute
force). It depends only on the packet and the installation, so the live and the
provider-batch paths send identical requests for identical work. It is not part of the
response cache key: a new secret changes requests, not what was already assessed.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from functools import lru_cache
from pathlib import Path

from packet_eval.errors import ConfigError
from packet_eval.store import home_dir

SECRET_FILE = "delimiter.key"
SECRET_BYTES = 32
CODE_HEX = 16  # 64 bits: far past any brute force of a secret-keyed code


def secret_path() -> Path:
    return home_dir() / SECRET_FILE


@lru_cache(maxsize=8)
def _secret_at(path: Path) -> bytes:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            _create(path)
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read or create the delimiter secret ({exc.strerror}); set "
                          "PACKET_EVAL_HOME to a writable directory", path) from None
    if len(data) != SECRET_BYTES:
        raise ConfigError(f"the delimiter secret is {len(data)} bytes, expected {SECRET_BYTES}; "
                          "delete the file to make a new one", path)
    return data


def _create(path: Path) -> None:
    # Written under a temporary name and linked into place, so a concurrent reader never
    # sees a partial file and two creators agree on one secret (the link fails for one).
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(SECRET_BYTES))
        with contextlib.suppress(FileExistsError):  # another process made it first
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def installation_secret() -> bytes:
    """This installation's secret, created on first use."""
    return _secret_at(secret_path())


def marker_code(packet_sha256: str) -> str:
    """The delimiter code for a packet: HMAC-SHA256 of its hash under the secret."""
    mac = hmac.new(installation_secret(), packet_sha256.encode(), hashlib.sha256)
    return mac.hexdigest()[:CODE_HEX]
