"""The app's live connection against a real server: events in, typing out, and the app told
to sign out when its session ends."""

import asyncio

from hypersend.ui.live import LiveConnection
from tests.support.accounts import signed_in
from tests.support.server import ServerProcess


async def test_events_typing_and_the_end_of_the_session(server: ServerProcess) -> None:
    app_client = await signed_in(server.url, "Ann App")
    bob = await signed_in(server.url, "Bob Other")
    chat = await bob.open_direct_chat((await app_client.me()).id)
    shown: asyncio.Queue[dict[str, object]] = asyncio.Queue()
    signed_out = asyncio.Event()

    async def show(event: dict[str, object]) -> None:
        await shown.put(event)

    async def caught_up() -> None:
        await shown.put({"type": "caught up"})

    async def sign_out() -> None:
        signed_out.set()

    live = LiveConnection(app_client, show, caught_up, sign_out)
    running = asyncio.create_task(live.run())
    async with await bob.connect_events() as bobs:
        # The app's connection is up once an event reaches it.
        await asyncio.sleep(0.3)
        await bob.send_message(chat.id, "are you there?")
        event = await asyncio.wait_for(shown.get(), 10)
        while event["type"] == "presence":  # Bob, online (his own connection)
            event = await asyncio.wait_for(shown.get(), 10)
        assert event["type"] == "message.created"
        await live.typing(chat.id)
        typing = await asyncio.wait_for(bobs.next(), 10)
        while typing["type"] in ("message.created", "presence"):  # his message, Ann online
            typing = await asyncio.wait_for(bobs.next(), 10)
        assert typing["type"] == "typing"
        assert typing["chat_id"] == chat.id

    await app_client.logout()  # the session ends, as when signed out from another screen
    await asyncio.wait_for(signed_out.wait(), 15)
    await asyncio.wait_for(running, 5)
    await app_client.close()
    await bob.close()
