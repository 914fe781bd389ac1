"""Direct (P2P) transfers as the desktop and Android app does them, headless: Flet's real
controls with the app's real session, against a real server and another real client."""

import asyncio
from pathlib import Path

import flet as ft

from hypersend.ui.p2p_transfers import P2pTransfers
from hypersend.ui.session import AppSession
from hypersend.ui.transfer_rows import TransferList
from tests.support.accounts import PASSWORD, signed_in, unique_email
from tests.support.device import DeviceStorage
from tests.support.files import random_file, sha256_of
from tests.support.server import ServerProcess


async def phone_app(server: ServerProcess) -> AppSession:
    app = AppSession(DeviceStorage(), server.url)
    await app.register(unique_email("phone"), PASSWORD, "Pat Phone", "")
    return app


def buttons(control: ft.Control) -> dict[str, ft.Control]:
    """The buttons inside a control, by their text."""
    found: dict[str, ft.Control] = {}
    if isinstance(control, ft.Button | ft.TextButton | ft.FilledButton):
        found[str(control.content)] = control
    for child in getattr(control, "controls", None) or []:
        found |= buttons(child)
    content = getattr(control, "content", None)
    if isinstance(content, ft.Control):
        found |= buttons(content)
    return found


async def test_an_offer_is_received_into_the_downloads_folder(
    server: ServerProcess, tmp_path: Path
) -> None:
    app = await phone_app(server)
    bob = await signed_in(server.url, "Bob Sender")
    assert app.me is not None
    chat = await bob.open_direct_chat(app.me.id)
    told: list[str] = []
    downloads = tmp_path / "Download"
    direct = P2pTransfers(app, chat.id, downloads, TransferList(told.append), told.append)
    source = random_file(tmp_path / "film.mkv", 3 * 1024 * 1024 + 5)
    offer = await bob.offer_transfer(app.me.id, source, chat_id=chat.id)

    await direct.load(await app.client.get_chat(chat.id))
    offered = buttons(direct)
    assert set(offered) == {"Receive", "Decline"}
    sending = asyncio.create_task(bob.send_transfer(offer["transfer_id"], source))
    await offered["Receive"].on_click()  # type: ignore[attr-defined]
    await sending
    received = downloads / "film.mkv"
    assert sha256_of(received) == sha256_of(source)
    assert told == [f"Saved to {received}"]
    assert (await bob.transfer(offer["transfer_id"]))["status"] == "completed"
    assert direct.controls == []  # nothing open any more
    await app.close()
    await bob.close()


async def test_sending_directly_streams_to_the_other_person(
    server: ServerProcess, tmp_path: Path
) -> None:
    app = await phone_app(server)
    bob = await signed_in(server.url, "Bob Receiver")
    bob_id = (await bob.me()).id
    assert app.me is not None
    chat = await app.client.open_direct_chat(bob_id)
    told: list[str] = []
    direct = P2pTransfers(
        app, chat.id, tmp_path / "Download", TransferList(told.append), told.append
    )
    assert direct.can_send_to(chat) == bob_id
    source = random_file(tmp_path / "photos.zip", 2 * 1024 * 1024)

    events = await bob.connect_events()

    async def bob_accepts() -> Path:
        async for event in events:
            if event["type"] == "transfer.offered":
                folder = tmp_path / "bob"
                folder.mkdir()
                return await bob.receive_transfer(event["transfer"]["transfer_id"], folder)
        raise AssertionError("no offer came")

    receiving = asyncio.create_task(bob_accepts())
    await direct.send(bob_id, source)
    assert sha256_of(await receiving) == sha256_of(source)
    assert told == ["photos.zip was delivered directly"]
    await events.close()
    await app.close()
    await bob.close()


async def test_declining_and_groups(server: ServerProcess, tmp_path: Path) -> None:
    app = await phone_app(server)
    bob = await signed_in(server.url, "Bob Offerer")
    carol = await signed_in(server.url, "Carol Member")
    assert app.me is not None
    chat = await bob.open_direct_chat(app.me.id)
    direct = P2pTransfers(app, chat.id, tmp_path, TransferList(print), print)
    offer = await bob.offer_transfer(
        app.me.id, random_file(tmp_path / "a.bin", 10), chat_id=chat.id
    )
    await direct.load(await app.client.get_chat(chat.id))
    await buttons(direct)["Decline"].on_click()  # type: ignore[attr-defined]
    assert (await bob.transfer(offer["transfer_id"]))["status"] == "cancelled"
    assert direct.controls == []
    # Direct transfers go to one person: not offered in groups, nor where files cannot be kept.
    group = await app.client.create_group("Trip", [(await bob.me()).id, (await carol.me()).id])
    assert direct.can_send_to(group) is None
    in_browser = P2pTransfers(app, chat.id, None, TransferList(print), print)
    assert in_browser.can_send_to(await app.client.get_chat(chat.id)) is None
    for client in (app, bob, carol):
        await client.close()
