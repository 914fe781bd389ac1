"""`hypersend migrate`: a SQLite deployment written by a real server, copied into MongoDB (on
the driver-level fake here, and on a real server when `HYPERSEND_TEST_MONGODB_URI` is set)
and into PostgreSQL and back, reads back the same through every repository; the round trip
SQLite -> PostgreSQL -> SQLite gives back identical tables."""

import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image

from hypersend.ids import new_id
from hypersend.storage import Storage
from hypersend.storage.copying import TABLES, CopyError, copy_all
from hypersend.storage.mongo import MongoStorage
from hypersend.storage.mongo.copy_source import MongoCopySource
from hypersend.storage.mongo.copy_target import MongoCopyTarget
from hypersend.storage.postgres import open_postgres_storage
from hypersend.storage.postgres.snapshot import open_postgres_snapshot
from hypersend.storage.sql import SqlStorage
from hypersend.storage.sql.copy_target import SqlCopyTarget
from hypersend.storage.sql.snapshot import SnapshotError
from hypersend.storage.sqlite import open_sqlite_storage
from hypersend.storage.sqlite.snapshot import open_sqlite_snapshot
from tests.storage.factories import make_message, make_user
from tests.support.accounts import invited, signed_in
from tests.support.files import random_file, start
from tests.support.mongo_fake import fake_mongo_client
from tests.support.postgres import PostgresProcess
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess

REAL_MONGODB = os.environ.get("HYPERSEND_TEST_MONGODB_URI", "")


@dataclass
class Deployment:
    data_root: Path
    database: Path


@pytest.fixture(scope="module")
async def deployment(tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    """A stopped SQLite server's data: accounts, invites, chats, messages (deleted, read and
    reacted to ones too), a shared file, an unfinished upload and a P2P offer."""
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
        await cid.react(said[1].id, "👍🏽")
        await ann.react(said[1].id, "👍🏽")
        await ann.react(said[2].id, "🇺🇦")
        shared = random_file(root / "shared.bin", 3 * TEST_CHUNK_SIZE + 5)
        await ann.send_file(group.id, shared)
        picture = root / "picture.png"
        Image.new("RGB", (64, 48), "red").save(picture)
        await ann.send_file(group.id, picture)
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


@pytest.fixture
def postgresql_url(postgres: PostgresProcess) -> str:
    return postgres.new_database()


@pytest.fixture
async def postgresql(postgresql_url: str) -> AsyncIterator[SqlStorage]:
    storage = await open_postgres_storage(postgresql_url, pool_size=2)
    yield storage
    await storage.close()


def nothing(table: str, copied: int) -> None:
    """Progress, unreported."""


async def copy_to_mongo(database: Path, mongo: MongoStorage, *, page_size: int = 1000) -> list[str]:
    """Copy, returning the progress calls as 'table:count'."""
    seen: list[str] = []
    snapshot = open_sqlite_snapshot(database, page_size=page_size)
    try:
        await copy_all(
            snapshot, MongoCopyTarget(mongo.db), lambda table, n: seen.append(f"{table}:{n}")
        )
    finally:
        await snapshot.close()
    return seen


async def assert_same_records(original: SqlStorage, copy: Storage, database: Path) -> None:
    """What every repository answers about every record is the same on both stores."""
    snapshot = open_sqlite_snapshot(database)
    try:
        users = [user async for page in snapshot.users() for user in page]
        assert len(users) == 3
        for user in users:
            assert await copy.users.get(user.id) == user
            assert await copy.chats.list_for_user(user.id) == await original.chats.list_for_user(
                user.id
            )
            for open_only in (False, True):
                assert await copy.transfers.list_for_user(
                    user.id, chat_id=None, open_only=open_only, limit=50
                ) == await original.transfers.list_for_user(
                    user.id, chat_id=None, open_only=open_only, limit=50
                )
        assert await copy.users.get_by_email(users[0].email) == users[0]
        ids = [user.id for user in users]
        assert await copy.files.bytes_used_by(ids) == await original.files.bytes_used_by(ids)
        async for sessions in snapshot.sessions():
            for session in sessions:
                assert await copy.sessions.get(session.id) == session
        assert await copy.invites.list_all() == await original.invites.list_all()
        async for chats in snapshot.chats():
            for chat in (record.chat for record in chats):
                assert await copy.chats.get(chat.id) == chat
                assert await copy.chats.members(chat.id) == await original.chats.members(chat.id)
                assert await copy.messages.page_before(
                    chat.id, None, 100
                ) == await original.messages.page_before(chat.id, None, 100)
                if chat.direct_key:
                    assert await copy.chats.get_direct(chat.direct_key) == chat
        async for files in snapshot.files():
            for file in files:
                assert await copy.files.get(file.id) == file
                assert await copy.files.chunk_digests(file.id) == (
                    await original.files.chunk_digests(file.id)
                )
                assert await copy.files.thumbnail(file.id) == (
                    await original.files.thumbnail(file.id)
                )
    finally:
        await snapshot.close()


async def test_copy_to_mongodb_reads_back_the_same_through_every_repository(
    deployment: Deployment, sqlite: SqlStorage, mongo: MongoStorage
) -> None:
    progress = await copy_to_mongo(deployment.database, mongo, page_size=2)
    snapshot = open_sqlite_snapshot(deployment.database)
    counts = await snapshot.counts()
    await snapshot.close()
    assert counts["messages"] == 10
    assert counts["files"] == 3
    assert counts["thumbnails"] == 1
    assert counts["transfers"] == 1
    assert await MongoCopyTarget(mongo.db).counts() == counts
    # Every table reported, page by page (pages of 2 rows here).
    assert progress[0] == "users:0"
    assert "users:2" in progress
    assert "users:3" in progress
    assert f"messages:{counts['messages']}" in progress
    await assert_same_records(sqlite, mongo, deployment.database)


async def test_sqlite_to_postgresql_to_sqlite_gives_back_identical_tables(
    deployment: Deployment,
    sqlite: SqlStorage,
    postgresql: SqlStorage,
    postgresql_url: str,
    tmp_path: Path,
) -> None:
    there = open_sqlite_snapshot(deployment.database, page_size=3)
    try:
        await copy_all(there, SqlCopyTarget(postgresql), nothing)
    finally:
        await there.close()
    await assert_same_records(sqlite, postgresql, deployment.database)

    back_path = tmp_path / "back" / "hypersend.db"
    back = await open_sqlite_storage(back_path, durable=False)
    source = open_postgres_snapshot(postgresql_url, page_size=3)
    try:
        await copy_all(source, SqlCopyTarget(back), nothing)
    finally:
        await source.close()
        await back.close()
    assert dump(back_path) == dump(deployment.database)


async def test_mongodb_to_postgresql(
    deployment: Deployment, sqlite: SqlStorage, mongo: MongoStorage, postgresql: SqlStorage
) -> None:
    await copy_to_mongo(deployment.database, mongo)
    await copy_all(MongoCopySource(mongo.db, page_size=2), SqlCopyTarget(postgresql), nothing)
    await assert_same_records(sqlite, postgresql, deployment.database)


def dump(database: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(database) as connection:
        tables = {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            for table in TABLES
        }
    connection.close()
    return tables


async def test_the_copied_database_keeps_its_rules(
    deployment: Deployment, sqlite: SqlStorage, mongo: MongoStorage
) -> None:
    await copy_to_mongo(deployment.database, mongo)
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
    created, _ = await mongo.messages.create(make_message(direct.chat, ann, "after the move"))
    assert created.seq == sent.seq + 1
    after = next(s for s in await mongo.chats.list_for_user(other) if s.chat.id == direct.chat.id)
    assert after.unread_count == before.unread_count + 1
    assert after.last_message is not None
    assert after.last_message.text == "after the move"


async def test_running_it_again_finishes_or_changes_nothing(
    deployment: Deployment, mongo: MongoStorage, postgresql: SqlStorage
) -> None:
    await copy_to_mongo(deployment.database, mongo)
    first = await MongoCopyTarget(mongo.db).counts()
    assert await copy_all(MongoCopySource(mongo.db), SqlCopyTarget(postgresql), nothing) == first
    await copy_to_mongo(deployment.database, mongo)
    assert await MongoCopyTarget(mongo.db).counts() == first
    assert await copy_all(MongoCopySource(mongo.db), SqlCopyTarget(postgresql), nothing) == first


async def test_a_database_already_in_use_is_refused(
    deployment: Deployment, mongo: MongoStorage
) -> None:
    await mongo.users.create(make_user("Somebody Else"))
    with pytest.raises(CopyError, match="not in the source"):
        await copy_to_mongo(deployment.database, mongo)
    assert await mongo.db["messages"].count_documents({}) == 0


def test_a_missing_or_foreign_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="does not exist"):
        open_sqlite_snapshot(tmp_path / "nothing.db")
    (tmp_path / "notes.db").write_text("not a database, just some text " * 200)
    with pytest.raises(SnapshotError, match="not a SQLite database"):
        open_sqlite_snapshot(tmp_path / "notes.db")


def run_migrate(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MONGODB_", "DATABASE_URL", "DATA_ROOT"))
    }
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
    assert "--to postgresql://" in no_target.stderr
    no_source = run_migrate("--data-root", str(tmp_path), "--to", "mongodb://127.0.0.1:1")
    assert no_source.returncode == 1
    assert "hypersend.db does not exist" in no_source.stderr
    same = run_migrate("--data-root", str(deployment.data_root), "--to", str(deployment.database))
    assert "the source and the target are the same store" in same.stderr
    for target in ("mongodb://127.0.0.1:1", "postgresql://hs:secret@127.0.0.1:1/hs"):
        unreachable = run_migrate("--data-root", str(deployment.data_root), "--to", target)
        assert unreachable.returncode == 1
        assert unreachable.stderr.startswith("hypersend migrate: ")
        assert "Traceback" not in unreachable.stderr
        assert "secret" not in unreachable.stderr


def test_the_command_copies_sqlite_to_postgresql_and_back(
    deployment: Deployment, postgresql_url: str, tmp_path: Path
) -> None:
    there = run_migrate("--data-root", str(deployment.data_root), "--to", postgresql_url)
    assert there.returncode == 0, there.stderr
    assert "Done: 3 accounts, 2 chats, 10 messages, 3 files are in PostgreSQL" in there.stdout
    assert "set DATABASE_URL to it" in there.stdout
    again = run_migrate("--data-root", str(deployment.data_root), "--to", postgresql_url)
    assert again.returncode == 0, again.stderr
    back = run_migrate("--to", str(tmp_path / "back"), env={"DATABASE_URL": postgresql_url})
    assert back.returncode == 0, back.stderr
    assert dump(tmp_path / "back" / "hypersend.db") == dump(deployment.database)


if REAL_MONGODB:

    def test_the_command_copies_into_a_real_server(deployment: Deployment, tmp_path: Path) -> None:
        database = f"hypersend_migrate_{new_id().lower()}"
        done = run_migrate(
            "--data-root", str(deployment.data_root), "--to", REAL_MONGODB, "--database", database
        )
        assert done.returncode == 0, done.stderr
        assert "in MongoDB" in done.stdout
        again = run_migrate(
            "--data-root", str(deployment.data_root), "--to", REAL_MONGODB, "--database", database
        )
        assert again.returncode == 0, again.stderr
