"""Who can reach an address: the one question both the CLI (`rag ui`, `rag serve`) and the chat
(may it add and remove articles?) ask before opening anything to other machines."""

from __future__ import annotations

import ipaddress


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False
