"""Admins manage accounts; nobody else may touch `/admin`."""

import asyncio
from pathlib import Path

import httpx
import pytest

from hypersend.client import (
    AuthError,
    ConflictError,
    HyperSendClient,
    PermissionDenied,
    TooLargeError,
)
from tests.support.accounts import PASSWORD, unique_email
from tests.support.files import random_file
from tests.support.server import ServerProcess


async def _admin_operations(url: str) -> list[tuple[str, str]]:
    async with httpx.AsyncClient(base_url=url) as http:
        spec = (await http.get("/openapi.json")).json()
    return [
        (method.upper(), path.replace("{code}", "x").replace("{user_id}", "x"))
        for path, methods in spec["paths"].items()
        if path.startswith("/admin/")
        for method in methods
    ]


async def test_every_admin_route_refuses_strangers_and_non_admins(
    invite_server: ServerProcess, member: HyperSendClient
) -> None:
    operations = await _admin_operations(invite_server.url)
    assert len(operations) >= 7
    async with httpx.AsyncClient(base_url=invite_server.url) as http:
        for method, path in operations:
            anonymous = await http.request(method, path, json={})
            assert anonymous.status_code == 401, (method, path)
            refused = await http.request(method, path, json={}, headers=member.api.auth_headers())
            assert refused.status_code == 403, (method, path)
            assert refused.json() == {"detail": "Only an admin may do this", "code": "admin_only"}


async def test_admin_routes_are_documented_with_their_refusals(
    invite_server: ServerProcess,
) -> None:
    async with httpx.AsyncClient(base_url=invite_server.url) as http:
        spec = (await http.get("/openapi.json")).json()
    for path, methods in spec["paths"].items():
        if path.startswith("/admin/"):
            for operation in methods.values():
                assert {"401", "403"} <= set(operation["responses"]), path
                assert operation["tags"] == ["admin"]


async def test_users_are_listed_with_the_storage_they_use(
    admin: HyperSendClient, member: HyperSendClient, tmp_path: Path
) -> None:
    await member.upload_file(random_file(tmp_path / "data.bin", 100_000))
    me = await member.me()
    accounts = {account.id: account for account in await admin.admin.users()}
    assert accounts[me.id].bytes_used == 100_000
    assert accounts[me.id].email == me.email
    assert not accounts[me.id].is_admin
    assert not accounts[me.id].disabled
    assert accounts[me.id].quota_bytes is None
    assert (await admin.admin.user_by_email(me.email.upper())).id == me.id


async def test_disabling_an_account_ends_its_sessions_and_sockets_at_once(
    invite_server: ServerProcess, admin: HyperSendClient, member: HyperSendClient
) -> None:
    me = await member.me()
    stream = await member.connect_events()
    await admin.admin.update_user(me.id, disabled=True)
    async with asyncio.timeout(5):
        async for _ in stream:
            pass
    assert stream.close_code == 4001
    with pytest.raises(AuthError):
        await member.me()
    with pytest.raises(PermissionDenied) as refused:
        await member.login(me.email, PASSWORD)
    assert refused.value.code == "account_disabled"

    enabled = await admin.admin.update_user(me.id, disabled=False)
    assert not enabled.disabled
    await member.login(me.email, PASSWORD)
    assert (await member.me()).id == me.id


async def test_a_quota_change_applies_to_the_next_upload(
    admin: HyperSendClient, member: HyperSendClient, tmp_path: Path
) -> None:
    me = await member.me()
    file = random_file(tmp_path / "file.bin", 50_000)
    limited = await admin.admin.update_user(me.id, quota_bytes=80_000)
    assert limited.quota_bytes == 80_000
    await member.upload_file(file)
    with pytest.raises(TooLargeError) as over:
        await member.upload_file(file)
    assert over.value.code == "over_quota"

    back_to_default = await admin.admin.update_user(me.id, quota_bytes=None)
    assert back_to_default.quota_bytes is None
    await member.upload_file(file)
    renamed = await admin.admin.update_user(me.id, name="Renamed")
    assert renamed.quota_bytes is None
    assert renamed.name == "Renamed"


async def test_resetting_a_password_signs_every_device_out(
    invite_server: ServerProcess, admin: HyperSendClient, member: HyperSendClient
) -> None:
    me = await member.me()
    await admin.admin.reset_password(me.id, "a brand new password")
    with pytest.raises(AuthError):
        await member.me()
    with pytest.raises(AuthError):
        await member.login(me.email, PASSWORD)
    await member.login(me.email, "a brand new password")
    assert (await member.me()).id == me.id


async def test_promoting_and_demoting_admins(
    invite_server: ServerProcess, admin: HyperSendClient, member: HyperSendClient
) -> None:
    me = await member.me()
    with pytest.raises(PermissionDenied):
        await member.admin.users()
    assert (await admin.admin.update_user(me.id, is_admin=True)).is_admin
    assert (await member.me()).is_admin
    assert len(await member.admin.users()) >= 2
    await admin.admin.update_user(me.id, is_admin=False)
    with pytest.raises(PermissionDenied):
        await member.admin.users()


async def test_admins_cannot_lock_themselves_out(admin: HyperSendClient) -> None:
    me = await admin.me()
    for change in ({"disabled": True}, {"is_admin": False}):
        with pytest.raises(ConflictError) as refused:
            await admin.admin.update_user(me.id, **change)
        assert refused.value.code == "cannot_change_self"
    assert (await admin.me()).is_admin


async def test_admin_creates_accounts_and_rejects_bad_input(
    invite_server: ServerProcess, admin: HyperSendClient
) -> None:
    email = unique_email("made")
    user_id = await admin.admin.create_user(email, PASSWORD, "Made By Admin")
    async with HyperSendClient(invite_server.url) as made:
        await made.login(email, PASSWORD)
        assert (await made.me()).id == user_id
    with pytest.raises(ConflictError):
        await admin.admin.create_user(email, PASSWORD, "Again")
    async with httpx.AsyncClient(base_url=invite_server.url) as http:
        headers = admin.api.auth_headers()
        bad_bodies = (
            {"email": "not-an-email", "password": PASSWORD, "name": "X"},
            {"email": unique_email(), "password": "short", "name": "X"},
        )
        for body in bad_bodies:
            assert (await http.post("/admin/users", json=body, headers=headers)).status_code == 422
        negative = await http.patch("/admin/users/x", json={"quota_bytes": -1}, headers=headers)
        assert negative.status_code == 422
        unknown = await http.patch("/admin/users/nobody", json={}, headers=headers)
        assert unknown.status_code == 404
        nobody = await http.get("/admin/users", params={"email": "no@one.test"}, headers=headers)
        assert nobody.status_code == 404
