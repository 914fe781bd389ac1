"""Refusing a port that something already listens on, before a server starts there."""

import socket


class PortTaken(Exception):
    """The port cannot be listened on; the message says so in one line."""


def require_free_port(host: str, port: int) -> None:
    """Granian shares ports (SO_REUSEPORT), so a forgotten server there would silently take
    half the requests: refuse instead."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise PortTaken(f"cannot listen on {host}:{port}: {exc}") from exc
    family, kind, protocol, _, address = infos[0]
    with socket.socket(family, kind, protocol) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise PortTaken(
                f"cannot listen on {host}:{port}: {reason} (is another server running there?)"
            ) from exc
