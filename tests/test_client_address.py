"""Who the client is, directly or behind trusted reverse proxies."""

from ipaddress import ip_network

import pytest
from starlette.requests import Request

from hypersend.client_address import Networks, client_address

LOOPBACK = [ip_network("127.0.0.1/32"), ip_network("::1/128")]
DOCKER = [*LOOPBACK, ip_network("172.16.0.0/12")]


def request(peer: str, *forwarded: str) -> Request:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return Request({"type": "http", "client": (peer, 5000), "headers": headers})


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        # Straight from the client: the header is the client's own words, ignored.
        ("203.0.113.9", ["1.2.3.4"], LOOPBACK, "203.0.113.9"),
        # Through a local nginx: the address nginx saw.
        ("127.0.0.1", ["198.51.100.7"], LOOPBACK, "198.51.100.7"),
        # A client that pre-filled the header cannot hide behind what it wrote.
        ("127.0.0.1", ["10.9.9.9, 198.51.100.7"], LOOPBACK, "198.51.100.7"),
        # Two proxies of ours (nginx in Docker, then another hop): skip both.
        ("172.18.0.5", ["198.51.100.7, 172.18.0.3"], DOCKER, "198.51.100.7"),
        # Several header lines count as one list.
        ("::1", ["198.51.100.7", "172.18.0.3"], DOCKER, "198.51.100.7"),
        # Garbage stops the walk: fall back to the peer.
        ("127.0.0.1", ["not-an-address"], LOOPBACK, "127.0.0.1"),
        # Nothing forwarded: the peer.
        ("127.0.0.1", [], LOOPBACK, "127.0.0.1"),
    ],
)
def test_client_address(peer: str, forwarded: list[str], trusted: Networks, expected: str) -> None:
    assert client_address(request(peer, *forwarded), trusted) == expected
