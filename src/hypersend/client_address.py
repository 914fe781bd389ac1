"""Who is at the other end of a request, also behind a reverse proxy.

Behind nginx every request comes from nginx's address, which would make per-client limits
(sign-in throttling) apply to everyone at once. When the direct peer is a trusted proxy
(`TRUSTED_PROXIES`), the client is the nearest address in `X-Forwarded-For` that is not one
of our proxies: entries further left were written by the client itself and prove nothing.
"""

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from starlette.requests import HTTPConnection

Networks = Sequence[IPv4Network | IPv6Network]


def client_address(connection: HTTPConnection, trusted: Networks) -> str:
    peer = connection.client.host if connection.client else ""
    if not _is_trusted(peer, trusted):
        return peer
    forwarded = [
        hop.strip()
        for header in connection.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
    ]
    for hop in reversed(forwarded):
        if not _is_valid(hop):
            break  # a garbled entry: trust nothing further left
        if not _is_trusted(hop, trusted):
            return hop
    return peer


def _is_valid(address: str) -> bool:
    try:
        ip_address(address)
    except ValueError:
        return False
    return True


def _is_trusted(address: str, trusted: Networks) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)
