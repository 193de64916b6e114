"""Addresses and ports: who can reach an address (asked by `rag ui`, `rag serve` and the chat,
which lets only this machine add and remove articles), and binding a port before any work."""

from __future__ import annotations

import errno
import ipaddress
import socket
from typing import Any

from rag.errors import RagError

#: Connections a listening socket queues before its process accepts them (uvicorn's default).
BACKLOG = 2048


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int, port_option: str = "--port") -> list[socket.socket]:
    """Sockets bound to every address `host` resolves to, as uvicorn would bind them.

    Binding here, before the CLI loads the index or says "API on …", makes a port in use or a
    host that does not resolve one RagError; left to the server, it is a logged ERROR (or a
    traceback) after the announcement. `port_option` is how the user chooses another port.
    """
    addresses = _addresses(host, port)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in addresses:
            sockets.append(_bound(family, kind, proto, address))
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise RagError(_bind_problem(host, port, exc, port_option)) from None
    return sockets


def listen_per_worker(host: str, port: int, workers: int, port_option: str = "--port") -> list[list[socket.socket]]:
    """For each of `workers` processes, its own sockets on every address of `host`, all on `port`.

    They share the port through SO_REUSEPORT, so Linux spreads new connections evenly between
    the processes, by address and port of the client. On one shared socket, the first process to
    start serving would accept every connection waiting (an OpenAI client keeps its connection),
    and the others would stay idle. The port is first bound as `listen` binds it, without
    SO_REUSEPORT, so a port in use, even by another `rag serve --workers`, is one RagError. They
    listen at once: a connection made while the workers load waits for them, not refused.
    """
    for sock in listen(host, port, port_option):
        sock.close()
    addresses = _addresses(host, port)
    groups: list[list[socket.socket]] = []
    try:
        for _ in range(workers):
            groups.append([])
            for family, kind, proto, _, address in addresses:
                sock = _bound(family, kind, proto, address, share=True)
                groups[-1].append(sock)
                sock.listen(BACKLOG)
    except OSError as exc:
        for sock in (sock for group in groups for sock in group):
            sock.close()
        raise RagError(_bind_problem(host, port, exc, port_option)) from None
    return groups


def _addresses(host: str, port: int) -> list[tuple[Any, ...]]:
    """getaddrinfo's distinct answers for binding `host`:`port`; RagError when the host does not resolve."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise RagError(f"Cannot resolve --host {host} ({exc.strerror}); give an address such as 127.0.0.1.") from None
    return list(dict.fromkeys(found))


def _bound(family: int, kind: int, proto: int, address: Any, share: bool = False) -> socket.socket:
    """One socket bound to `address` (IPv6 ones for IPv6 only, so both families can share the port);
    with `share`, other sockets of this user with SO_REUSEPORT may bind the same port."""
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if share:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _bind_problem(host: str, port: int, exc: OSError, port_option: str) -> str:
    """The one line for a failed bind, saying what to change."""
    if exc.errno == errno.EADDRINUSE:
        return f"Port {port} is already in use on {host}: stop what is using it, or choose another with {port_option}."
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"--host {host} is not an address of this machine: give one of its own, or 127.0.0.1."
    if exc.errno == errno.EACCES:
        return (
            f"No permission to listen on port {port}: ports below 1024 need privileges; "
            f"choose another with {port_option}."
        )
    return f"Cannot listen on {host}:{port}: {exc.strerror or exc}."
