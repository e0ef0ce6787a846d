"""Where ``packet-eval serve`` may listen, and whom it answers.

The page has no login, so the policy is: bind loopback unless told otherwise,
warn loudly when told otherwise, and on loopback refuse any Host header but
loopback names, so a DNS-rebinding web page cannot read results. Kept apart
from ``app.py`` so the CLI can read its defaults without importing the web stack.
"""

from __future__ import annotations

import errno
import ipaddress
import socket

from packet_eval.errors import ConfigError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
NON_LOOPBACK_WARNING = (
    "WARNING: serving on {host}, which is not a loopback address. Anyone who can reach "
    "{host}:{port} can upload packets and read the results, with no login. Packets may "
    "contain personal data. Use the default --host 127.0.0.1 unless you mean this."
)


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IPs (127.0.0.0/8, ::1); False for 0.0.0.0 and names."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name could resolve anywhere: treat it as exposed


def allowed_hosts_for(host: str) -> list[str]:
    """Host headers to answer: loopback names (and the bound address) on loopback binds.

    A loopback server refuses other Host headers so that a web page using DNS
    rebinding cannot read results; an exposed server answers any name.
    """
    if not is_loopback(host):
        return ["*"]
    bare = host.strip("[]").lower()
    return [*LOOPBACK_HOSTS, f"[{bare}]" if ":" in bare else bare]


def exposure_warning(host: str, port: int) -> str | None:
    """The warning to print before serving on ``host``, or None on a loopback bind."""
    return None if is_loopback(host) else NON_LOOPBACK_WARNING.format(host=host, port=port)


def server_url(host: str, port: int) -> str:
    """The address to open in a browser (IPv6 hosts in brackets)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port``, or ConfigError saying why it cannot listen there.

    Bound before the banner is printed, so a busy port is the only line a user sees.
    """
    bare = host.strip("[]")
    family = socket.AF_INET6 if ":" in bare else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((bare, port))
    except OSError as exc:
        sock.close()
        hint = "; pick another with --port" if exc.errno == errno.EADDRINUSE else ""
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror or exc}){hint}") from None
    sock.set_inheritable(True)
    return sock
