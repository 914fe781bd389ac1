"""Who may register, under each `REGISTRATION_POLICY`, against real servers."""

import asyncio
from pathlib import Path

import httpx
import pytest

from hypersend.client import ConflictError, HyperSendClient, PermissionDenied
from tests.support.accounts import PASSWORD, unique_email
from tests.support.server import ServerProcess


async def _register(url: str, invite_code: str | None = None) -> httpx.Response:
    body = {"email": unique_email(), "password": PASSWORD, "name": "Someone"}
    if invite_code is not None:
        body["invite_code"] = invite_code
    async with httpx.AsyncClient(base_url=url) as http:
        return await http.post("/auth/register", json=body)


async def _policy(url: str) -> str:
    async with HyperSendClient(url) as client:
        return await client.registration_policy()


async def test_unset_policy_makes_the_first_account_admin_then_needs_invites(
    tmp_path: Path,
) -> None:
    server = ServerProcess(tmp_path / "data", registration_policy=None).start()
    try:
        assert await _policy(server.url) == "open"
        first = await _register(server.url)
        assert first.status_code == 201
        assert await _policy(server.url) == "invite"

        second = await _register(server.url)
        assert second.status_code == 403
        assert second.json()["code"] == "invite_required"
        assert "invite code" in second.json()["detail"]

        async with HyperSendClient(server.url) as admin:
            await admin.login(first.json()["email"], PASSWORD)
            assert (await admin.me()).is_admin
            invite = await admin.admin.create_invite()
        invited = await _register(server.url, invite.code)
        assert invited.status_code == 201
        async with HyperSendClient(server.url) as newcomer:
            await newcomer.login(invited.json()["email"], PASSWORD)
            assert not (await newcomer.me()).is_admin
    finally:
        server.stop()


async def test_explicit_invite_policy_still_lets_the_first_account_in(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", registration_policy="invite").start()
    try:
        assert await _policy(server.url) == "invite"
        first = await _register(server.url)
        assert first.status_code == 201
        assert (await _register(server.url)).json()["code"] == "invite_required"
    finally:
        server.stop()


async def test_closed_policy_refuses_every_sign_up(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", registration_policy="closed").start()
    try:
        assert await _policy(server.url) == "closed"
        refused = await _register(server.url, invite_code="anything")
        assert refused.status_code == 403
        assert refused.json()["code"] == "registration_closed"
    finally:
        server.stop()


async def test_open_policy_lets_anyone_register(server: ServerProcess) -> None:
    assert await _policy(server.url) == "open"
    assert (await _register(server.url)).status_code == 201
    assert (await _register(server.url)).status_code == 201


async def test_invite_uses_are_counted_and_run_out(
    invite_server: ServerProcess, admin: HyperSendClient
) -> None:
    invite = await admin.admin.create_invite(max_uses=2)
    assert (await _register(invite_server.url, invite.code)).status_code == 201
    assert (await _register(invite_server.url, invite.code)).status_code == 201
    used_up = await _register(invite_server.url, invite.code)
    assert used_up.status_code == 403
    assert used_up.json()["code"] == "invite_invalid"
    listed = {i.code: i for i in await admin.admin.invites()}
    assert listed[invite.code].uses == 2


async def test_a_failed_registration_gives_its_invite_use_back(
    invite_server: ServerProcess, admin: HyperSendClient
) -> None:
    invite = await admin.admin.create_invite(max_uses=1)
    email = unique_email("taken")
    async with HyperSendClient(invite_server.url) as client:
        await client.register(email, PASSWORD, "First", invite_code=invite.code)
        second = await admin.admin.create_invite(max_uses=1)
        with pytest.raises(ConflictError):
            await client.register(email, PASSWORD, "Again", invite_code=second.code)
    listed = {i.code: i for i in await admin.admin.invites()}
    assert listed[second.code].uses == 0
    assert (await _register(invite_server.url, second.code)).status_code == 201


async def test_expired_and_deleted_invites_are_refused(
    invite_server: ServerProcess, admin: HyperSendClient
) -> None:
    short = await admin.admin.create_invite(expires_in_hours=1 / 3600)  # one second
    deleted = await admin.admin.create_invite()
    await admin.admin.delete_invite(deleted.code)
    await asyncio.sleep(1.2)
    for code in (short.code, deleted.code, "never-issued"):
        refused = await _register(invite_server.url, code)
        assert refused.status_code == 403
        assert refused.json()["code"] == "invite_invalid"
    with pytest.raises(PermissionDenied):
        async with HyperSendClient(invite_server.url) as client:
            await client.register(unique_email(), PASSWORD, "Late", invite_code=short.code)


async def test_invite_fields_are_validated(admin: HyperSendClient) -> None:
    async with httpx.AsyncClient(base_url=admin.base_url) as http:
        headers = admin.api.auth_headers()
        for body in ({"max_uses": 0}, {"expires_in_hours": -1}, {"max_uses": "lots"}):
            response = await http.post("/admin/invites", json=body, headers=headers)
            assert response.status_code == 422, body
        missing = await http.delete("/admin/invites/nope", headers=headers)
        assert missing.status_code == 404
