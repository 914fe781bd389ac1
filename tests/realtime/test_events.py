"""Real-time events over real WebSockets."""

import asyncio
import json
import socket

import pytest
import websockets

from hypersend.client import Chat, EventStream, HyperSendClient
from hypersend.client.http import websocket_url
from tests.support.accounts import signed_in
from tests.support.server import ServerProcess


async def next_of(stream: EventStream, kind: str) -> dict[str, object]:
    async with asyncio.timeout(5):
        while True:
            event = await stream.next()
            if event["type"] == kind:
                return event


async def no_event(stream: EventStream, seconds: float = 0.3) -> None:
    try:
        async with asyncio.timeout(seconds):
            event = await stream.next()
    except TimeoutError:
        return
    pytest.fail(f"unexpected event {event}")


async def read_until_closed(ws: websockets.ClientConnection) -> None:
    while True:
        await ws.recv()


@pytest.fixture
async def chat(alice: HyperSendClient, bob: HyperSendClient) -> Chat:
    return await alice.open_direct_chat((await bob.me()).id)


async def test_every_device_of_every_member_gets_new_messages_but_strangers_do_not(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient, chat: Chat
) -> None:
    async with (
        await bob.connect_events() as bob_phone,
        await bob.connect_events() as bob_laptop,
        await alice.connect_events() as alice_phone,
        await carol.connect_events() as stranger,
    ):
        sent = await alice.send_message(chat.id, "live!")
        for stream in (bob_phone, bob_laptop, alice_phone):
            event = await next_of(stream, "message.created")
            message = event["message"]
            assert isinstance(message, dict)
            assert message["id"] == sent.id
            assert message["text"] == "live!"
        await no_event(stranger)


async def test_read_delete_and_typing_events(
    alice: HyperSendClient, bob: HyperSendClient, chat: Chat
) -> None:
    message = await alice.send_message(chat.id, "read me")
    bob_id = (await bob.me()).id
    async with await alice.connect_events() as alice_events, await bob.connect_events() as bob_ev:
        await bob.mark_read(message.id)
        read = await next_of(alice_events, "message.read")
        assert read == {
            "type": "message.read",
            "chat_id": chat.id,
            "user_id": bob_id,
            "last_read_message_id": message.id,
        }
        await bob_ev.typing(chat.id)
        typing = await next_of(alice_events, "typing")
        assert typing == {"type": "typing", "chat_id": chat.id, "user_id": bob_id}

        await alice.delete_message(message.id)
        deleted = await next_of(bob_ev, "message.deleted")
        assert deleted == {"type": "message.deleted", "chat_id": chat.id, "message_id": message.id}


async def test_chat_created_and_updated_events(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient
) -> None:
    bob_id, carol_id = (await bob.me()).id, (await carol.me()).id
    async with await bob.connect_events() as bob_events, await carol.connect_events() as carol_ev:
        group = await alice.create_group("Party", [bob_id])
        created = await next_of(bob_events, "chat.created")
        chat = created["chat"]
        assert isinstance(chat, dict)
        assert chat["id"] == group.id
        assert chat["title"] == "Party"
        await alice.add_member(group.id, carol_id)
        updated = await next_of(carol_ev, "chat.updated")
        assert isinstance(updated["chat"], dict)
        assert {m["id"] for m in updated["chat"]["members"]} >= {bob_id, carol_id}
        await next_of(bob_events, "chat.updated")


async def test_ping_pong_and_bad_frames_get_answers_not_drops(alice: HyperSendClient) -> None:
    async with await alice.connect_events() as stream:
        await stream.send({"type": "ping"})
        assert await next_of(stream, "pong") == {"type": "pong"}
        await stream._connection.send_text("not json")
        assert (await next_of(stream, "error"))["code"] == "bad_frame"
        await stream._connection.send_binary(b"\x00binary")
        assert (await next_of(stream, "error"))["code"] == "bad_frame"
        await stream.send({"type": "typing"})
        assert (await next_of(stream, "error"))["code"] == "bad_frame"
        await stream.send({"type": "typing", "chat_id": "01NOTMINE000000000000000000"})
        assert (await next_of(stream, "error"))["code"] == "not_found"
        await stream.send({"type": "launch"})
        assert (await next_of(stream, "error"))["code"] == "unknown_type"
        await stream.send({"type": "ping"})
        assert await next_of(stream, "pong") == {"type": "pong"}


async def test_browser_style_first_frame_authentication(
    server: ServerProcess, alice: HyperSendClient
) -> None:
    assert alice.tokens is not None
    async with websockets.connect(websocket_url(server.url, "/ws")) as ws:
        await ws.send(json.dumps({"type": "auth", "token": alice.tokens.access_token}))
        ready = json.loads(await ws.recv())
        assert ready["type"] == "ready"
        assert ready["user_id"] == (await alice.me()).id


@pytest.mark.parametrize(
    "first_frame", ['{"type": "auth", "token": "bad"}', "hello", "{}", b"\x00binary"]
)
async def test_websocket_without_a_valid_token_is_refused(
    server: ServerProcess, first_frame: str | bytes
) -> None:
    async with websockets.connect(websocket_url(server.url, "/ws")) as ws:
        await ws.send(first_frame)
        error = json.loads(await ws.recv())
        assert error["type"] == "error"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1008


async def test_a_socket_that_leaves_before_authenticating_leaves_no_traceback(
    server: ServerProcess,
) -> None:
    tracebacks = server.log().count("Traceback")
    for _ in range(3):
        async with websockets.connect(websocket_url(server.url, "/ws")):
            pass  # gone without a word
    async with websockets.connect(websocket_url(server.url, "/ws")) as ws:
        await ws.send(json.dumps({"type": "ping"}))
        assert json.loads(await ws.recv())["type"] == "error"
    assert server.log().count("Traceback") == tracebacks


async def test_bad_bearer_header_fails_the_handshake(server: ServerProcess) -> None:
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(
            websocket_url(server.url, "/ws"), additional_headers={"Authorization": "Bearer nope"}
        ):
            pass
    assert refused.value.response.status_code == 403


async def test_logout_closes_that_sessions_sockets(alice: HyperSendClient) -> None:
    stream = await alice.connect_events()
    await alice.logout()
    async with asyncio.timeout(5):
        async for _ in stream:
            pass
    assert stream.close_code == 4001


async def test_a_client_that_does_not_read_is_cut_off_without_stalling_others(
    own_server: ServerProcess,
) -> None:
    # Enough 4 KB messages to fill the kernel's socket buffers and the server's queue of 8.
    messages = 1500
    own_server.env["WS_QUEUE_SIZE"] = "8"
    own_server.start()
    sender = await signed_in(own_server.url, "Sender")
    reader = await signed_in(own_server.url, "Reader")
    try:
        chat = await sender.open_direct_chat((await reader.me()).id)
        assert reader.tokens is not None
        tiny_buffer = socket.socket()
        tiny_buffer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        tiny_buffer.connect(("127.0.0.1", own_server.port))
        stalled = await websockets.connect(
            websocket_url(own_server.url, "/ws"),
            additional_headers={"Authorization": f"Bearer {reader.tokens.access_token}"},
            max_queue=1,
            sock=tiny_buffer,
        )
        async with await reader.connect_events() as healthy:

            async def read_all() -> int:
                received = 0
                while received < messages:
                    if (await healthy.next())["type"] == "message.created":
                        received += 1
                return received

            reading = asyncio.create_task(read_all())
            big = "x" * 4000
            for i in range(messages):
                await sender.send_message(chat.id, f"{i}{big}")
            async with asyncio.timeout(20):
                assert await reading == messages
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(read_until_closed(stalled), 20)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4008
    finally:
        await sender.close()
        await reader.close()
