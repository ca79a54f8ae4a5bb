"""The one network probe of the package (private): can a host be reached, within a time limit?

``pretrained`` (torchvision weights) and ``data.pet`` (Oxford-IIIT Pet) ask it before a download,
so a machine without network gives up in seconds instead of waiting on a socket.
"""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlparse

__all__ = ["reachable"]


def reachable(url: str, timeout: float) -> str | None:
    """None if a TCP connection to ``url``'s host opens within ``timeout`` s, else the reason.

    Runs in a daemon thread joined with a timeout, because name resolution ignores socket timeouts.
    """
    parts = urlparse(url)
    host, port = parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    result: dict[str, str | None] = {}

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result["error"] = None
        except Exception as exc:  # DNS failure, refused, unreachable, timed out
            result["error"] = f"{type(exc).__name__}: {exc}"

    t = threading.Thread(target=probe, name="course-network-probe", daemon=True)
    t.start()
    t.join(timeout)
    if "error" not in result:
        return f"no answer from {host} within {timeout:g} s"
    return result["error"] and f"cannot reach {host} ({result['error']})"
