"""`hypersend migrate`: a SQLite deployment, written by a real server, copied into MongoDB
reads back the same through every repository (on the driver-level fake here, and on a real
server when `HYPERSEND_TEST_MONGODB_URI` is set)."""

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hypersend.ids import new_id
from hypersend.storage.mongo import MongoStorage
from hypersend.storage.mongo.importer import TargetNotEmpty, copy_snapshot, target_counts
from hypersend.storage.sql import SqlStorage
from hypersend.storage.sqlite import open_sqlite_storage
from hypersend.storage.sqlite.snapshot import TABLES, SnapshotError, SqliteSnapshot
from tests.storage.factories import make_message, make_user
from tests.support.accounts import invited, signed_in
from tests.support.files import random_file, start
from tests.support.mongo_fake import fake_mongo_client
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess

REAL_MONGODB = os.environ.get("HYPERSEND_TEST_MONGODB_URI", "")


@dataclass
class Deployment:
    data_root: Path
    database: Path


@pytest.fixture(scope="module")
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """A stopped SQLite server's data: accounts, invites, chats, messages (deleted and read
    ones too), a shared file, an unfinished upload and a P2P offer."""
    root = tmp_path_factory.mktemp("sqlite-deployment")
    server = ServerProcess(root / "data", {"MONGODB_URI": ""}, registration_policy=None).start()
    try:
        ann = await signed_in(server.url, "Ann Admin")
        ben = await invited(server.url, ann, "Ben Member")
        cid = await invited(server.url, ann, "Cid Member")
        await ann.admin.create_invite(max_uses=3)
        ben_id, cid_id = (await ben.me()).id, (await cid.me()).id
        direct = await ann.open_direct_chat(ben_id)
        group = await ann.create_group("Trip", [ben_id, cid_id])
        for number in range(5):
            await ann.send_message(direct.id, f"hello {number}", client_id=f"direct-{number}")
        said = [await ben.send_message(group.id, f"plan {n}") for n in range(3)]
        await cid.mark_read(said[1].id)
        await ben.delete_message(said[0].id)
        shared = random_file(root / "shared.bin", 3 * TEST_CHUNK_SIZE + 5)
        await ann.send_file(group.id, shared)
        await start(cid, 5 * TEST_CHUNK_SIZE)
        await ann.offer_transfer(ben_id, shared, chat_id=direct.id)
        for client in (ann, ben, cid):
            await client.close()
    finally:
        server.stop()
    return Deployment(server.data_root, server.data_root / "hypersend.db")


@pytest.fixture
async def mongo() -> AsyncIterator[MongoStorage]:
    storage = await MongoStorage.connect(fake_mongo_client(), "migrated")
    yield storage
    await storage.close()


@pytest.fixture
async def sqlite(deployment: Deployment) -> AsyncIterator[SqlStorage]:
    storage = await open_sqlite_storage(deployment.database, durable=False)
    yield storage
    await storage.close()


async def copy(database: Path, mongo: MongoStorage, *, page_size: int = 1000) -> list[str]:
    """Copy, returning the progress calls as 'table:count'."""
    seen: list[str] = []
    snapshot = SqliteSnapshot.open(database, page_size=page_size)
    try:
        await copy_snapshot(snapshot, mongo.db, lambda table, n: seen.append(f"{table}:{n}"))
    finally:
        snapshot.close()
    return seen


async def assert_same_records(
    sqlite: SqlStorage, mongo: MongoStorage, snapshot: SqliteSnapshot
) -> None:
    """What every repository answers about every record is the same on both backends."""
    users = [user for page in snapshot.users() for user in page]
    assert len(users) == 3
    for user in users:
        assert await mongo.users.get(user.id) == user
        assert await mongo.chats.list_for_user(user.id) == await sqlite.chats.list_for_user(user.id)
        for open_only in (False, True):
            assert await mongo.transfers.list_for_user(
                user.id, chat_id=None, open_only=open_only, limit=50
            ) == await sqlite.transfers.list_for_user(
                user.id, chat_id=None, open_only=open_only, limit=50
            )
    assert await mongo.users.get_by_email(users[0].email) == users[0]
    ids = [user.id for user in users]
    assert await mongo.files.bytes_used_by(ids) == await sqlite.files.bytes_used_by(ids)
    for sessions in snapshot.sessions():
        for session in sessions:
            assert await mongo.sessions.get(session.id) == session
    assert await mongo.invites.list_all() == await sqlite.invites.list_all()
    for chats in snapshot.chats():
        for chat in (record.chat for record in chats):
            assert await mongo.chats.get(chat.id) == chat
            assert await mongo.chats.members(chat.id) == await sqlite.chats.members(chat.id)
            assert await mongo.messages.page_before(
                chat.id, None, 100
            ) == await sqlite.messages.page_before(chat.id, None, 100)
            if chat.direct_key:
                assert await mongo.chats.get_direct(chat.direct_key) == chat
    for files in snapshot.files():
        for file in files:
            assert await mongo.files.get(file.id) == file
            assert await mongo.files.chunk_digests(file.id) == (
                await sqlite.files.chunk_digests(file.id)
            )


async def test_copy_reads_back_the_same_through_every_repository(
    deployment: Deployment, sqlite: SqlStorage, mongo: MongoStorage
) -> None:
    progress = await copy(deployment.database, mongo, page_size=2)
    snapshot = SqliteSnapshot.open(deployment.database)
    try:
        counts = snapshot.counts()
        assert counts["messages"] == 9
        assert counts["files"] == 2
        assert counts["transfers"] == 1
        assert await target_counts(mongo.db, list(TABLES)) == counts
        # Every table reported, page by page (pages of 2 rows here).
        assert progress[0] == "users:0"
        assert "users:2" in progress
        assert "users:3" in progress
        assert f"messages:{counts['messages']}" in progress
        await assert_same_records(sqlite, mongo, snapshot)
    finally:
        snapshot.close()


async def test_the_copied_database_keeps_its_rules(
    deployment: Deployment, sqlite: SqlStorage, mongo: MongoStorage
) -> None:
    await copy(deployment.database, mongo)
    chats = await sqlite.chats.list_for_user(
        (await sqlite.users.list_page(after=None, limit=1))[0].id
    )
    direct = next(s for s in chats if s.chat.type == "direct")
    sent = direct.last_message
    assert sent is not None
    assert sent.client_id is not None
    ann = await mongo.users.get(sent.sender_id)
    assert ann is not None
    # A retried send with a copied client_id still finds the copied message.
    retry = make_message(direct.chat, ann, "again", client_id=sent.client_id)
    assert await mongo.messages.create(retry) == (sent, False)
    # A new message lands after the copied ones and counts as unread for the other member.
    other = next(m.user_id for m in direct.members if m.user_id != ann.id)
    before = next(s for s in await mongo.chats.list_for_user(other) if s.chat.id == direct.chat.id)
    await mongo.messages.create(make_message(direct.chat, ann, "after the move"))
    after = next(s for s in await mongo.chats.list_for_user(other) if s.chat.id == direct.chat.id)
    assert after.unread_count == before.unread_count + 1
    assert after.last_message is not None
    assert after.last_message.text == "after the move"


async def test_running_it_again_finishes_or_changes_nothing(
    deployment: Deployment, mongo: MongoStorage
) -> None:
    await copy(deployment.database, mongo)
    first = await target_counts(mongo.db, list(TABLES))
    await copy(deployment.database, mongo)
    assert await target_counts(mongo.db, list(TABLES)) == first


async def test_a_database_already_in_use_is_refused(
    deployment: Deployment, mongo: MongoStorage
) -> None:
    await mongo.users.create(make_user("Somebody Else"))
    with pytest.raises(TargetNotEmpty, match="already holds accounts"):
        await copy(deployment.database, mongo)
    assert await mongo.db["messages"].count_documents({}) == 0


def test_a_missing_or_foreign_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="does not exist"):
        SqliteSnapshot.open(tmp_path / "nothing.db")
    (tmp_path / "notes.db").write_text("not a database, just some text " * 200)
    with pytest.raises(SnapshotError, match="not a SQLite database"):
        SqliteSnapshot.open(tmp_path / "notes.db")


def run_migrate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MONGODB_")}
    return subprocess.run(
        [sys.executable, "-m", "hypersend", "migrate", *args],
        env=environment | (env or {}),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_command_says_what_is_missing(tmp_path: Path, deployment: Deployment) -> None:
    no_target = run_migrate("--data-root", str(deployment.data_root))
    assert no_target.returncode == 1
    assert "--to mongodb://" in no_target.stderr
    no_source = run_migrate("--data-root", str(tmp_path), "--to", "mongodb://127.0.0.1:1")
    assert no_source.returncode == 1
    assert "hypersend.db does not exist" in no_source.stderr
    unreachable = run_migrate(
        "--data-root",
        str(deployment.data_root),
        "--to",
        "mongodb://127.0.0.1:1",
    )
    assert unreachable.returncode == 1
    assert "MongoDB:" in unreachable.stderr
    assert "Traceback" not in unreachable.stderr


if REAL_MONGODB:

    def test_the_command_copies_into_a_real_server(deployment: Deployment, tmp_path: Path) -> None:
        database = f"hypersend_migrate_{new_id().lower()}"
        done = run_migrate(
            "--data-root", str(deployment.data_root), "--to", REAL_MONGODB, "--database", database
        )
        assert done.returncode == 0, done.stderr
        assert "Done: every record is in MongoDB" in done.stdout
        again = run_migrate(
            "--data-root", str(deployment.data_root), "--to", REAL_MONGODB, "--database", database
        )
        assert again.returncode == 0, again.stderr
