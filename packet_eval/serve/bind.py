"""Where ``packet-eval serve`` may listen, and whom it answers.

The page has no login, so the policy is: bind loopback unless told otherwise,
warn loudly when told otherwise, and on loopback refuse any Host header but
loopback names, so a DNS-rebinding web page cannot read results. Kept apart
from ``app.py`` so the CLI can read its defaults without importing the web stack.
"""

from __future__ import annotations

import ipaddress

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
