from datetime import timedelta

from hypersend.clock import utcnow
from hypersend.storage import Storage
from hypersend.storage.models import Transfer
from tests.storage.factories import make_chat, make_transfer, make_user


async def test_status_changes_are_compare_and_set(storage: Storage) -> None:
    sender, receiver = make_user("S"), make_user("R")
    for user in (sender, receiver):
        await storage.users.create(user)
    transfer = make_transfer(sender, receiver)
    await storage.transfers.create(transfer)
    assert await storage.transfers.get(transfer.id) == transfer
    assert await storage.transfers.set_status(transfer.id, "active", only_from=("offered",))
    assert not await storage.transfers.set_status(transfer.id, "active", only_from=("offered",))
    await storage.transfers.set_progress(transfer.id, 500)
    assert await storage.transfers.set_status(
        transfer.id, "cancelled", only_from=("active",), reason="by sender"
    )
    stored = await storage.transfers.get(transfer.id)
    assert stored is not None
    assert (stored.status, stored.reason, stored.bytes_relayed) == ("cancelled", "by sender", 500)


async def test_listing_and_expiry(storage: Storage) -> None:
    sender, receiver, other = make_user("S"), make_user("R"), make_user("O")
    for user in (sender, receiver, other):
        await storage.users.create(user)
    chat = make_chat(sender, title="t")
    await storage.chats.create(chat, [sender.id, receiver.id])
    first = make_transfer(sender, receiver)
    second = make_transfer(sender, receiver, chat=chat)
    for transfer in (first, second):
        await storage.transfers.create(transfer)

    def ids(found: list[Transfer]) -> list[str]:
        return [transfer.id for transfer in found]

    listed = await storage.transfers.list_for_user(
        receiver.id, chat_id=None, open_only=False, limit=10
    )
    assert ids(listed) == [second.id, first.id]
    in_chat = await storage.transfers.list_for_user(
        sender.id, chat_id=chat.id, open_only=False, limit=10
    )
    assert ids(in_chat) == [second.id]
    assert (
        await storage.transfers.list_for_user(other.id, chat_id=None, open_only=False, limit=10)
        == []
    )

    expired = await storage.transfers.expire_offers(utcnow() + timedelta(hours=1))
    assert sorted(ids(expired)) == sorted([first.id, second.id])
    assert (
        await storage.transfers.list_for_user(receiver.id, chat_id=None, open_only=True, limit=10)
        == []
    )


async def test_active_transfers_record_their_relaying_process(storage: Storage) -> None:
    sender, receiver = make_user("S"), make_user("R")
    for user in (sender, receiver):
        await storage.users.create(user)
    on_a, on_b, offered = (make_transfer(sender, receiver) for _ in range(3))
    for transfer in (on_a, on_b, offered):
        await storage.transfers.create(transfer)
    assert await storage.transfers.activate(on_a.id, relay_node="node-a", only_from=("offered",))
    assert await storage.transfers.activate(on_b.id, relay_node="node-b", only_from=("offered",))
    assert not await storage.transfers.activate(on_b.id, relay_node="x", only_from=("offered",))
    assert await storage.transfers.relay_nodes() == {"node-a", "node-b"}

    assert await storage.transfers.fail_relayed_by(["node-a"], "relay stopped") == 1
    failed, kept, untouched = [await storage.transfers.get(t.id) for t in (on_a, on_b, offered)]
    assert failed is not None
    assert kept is not None
    assert untouched is not None
    assert (failed.status, failed.reason, failed.relay_node) == (
        "failed",
        "relay stopped",
        "node-a",
    )
    assert (kept.status, kept.relay_node) == ("active", "node-b")
    assert untouched.status == "offered"
    assert await storage.transfers.relay_nodes() == {"node-b"}
