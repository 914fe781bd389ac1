"""What only the PostgreSQL backend promises: many writers at once (several pools stand for
several server processes) behave as one writer at a time, migrations run once however many
start together, and a restarted or missing server is a clear, recoverable error."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import psycopg
import pytest

from hypersend.clock import utcnow
from hypersend.storage.errors import DuplicateError, StorageUnavailable
from hypersend.storage.postgres import open_postgres_storage
from hypersend.storage.postgres.placeholders import to_psycopg
from hypersend.storage.postgres.schema import MIGRATIONS
from hypersend.storage.sql import SqlStorage
from tests.storage.factories import make_chat, make_file, make_message, make_user
from tests.support.postgres import PostgresProcess

PROCESSES = 4
WHEN = "2026-01-01T00:00:00.000000Z"


@pytest.fixture
async def stores(postgres: PostgresProcess) -> AsyncIterator[list[SqlStorage]]:
    """`PROCESSES` storages on one fresh database, opened at the same moment."""
    url = postgres.new_database()
    opened = await asyncio.gather(
        *(open_postgres_storage(url, pool_size=4) for _ in range(PROCESSES))
    )
    yield list(opened)
    for storage in opened:
        await storage.close()


async def test_migrations_run_once_when_processes_start_together(
    stores: list[SqlStorage],
) -> None:
    version = await stores[0].db.read(
        lambda c: c.execute("SELECT version FROM schema_version").fetchall()
    )
    assert [tuple(row) for row in version] == [(len(MIGRATIONS),)]


async def test_concurrent_writers_number_a_chats_messages_without_gaps(
    stores: list[SqlStorage],
) -> None:
    ann = make_user("Ann")
    await stores[0].users.create(ann)
    chat = make_chat(ann, title="busy")
    await stores[0].chats.create(chat, [ann.id])

    async def write(store: SqlStorage, n: int) -> int:
        stored, _ = await store.messages.create(make_message(chat, ann, f"m{n}"))
        return stored.seq

    numbers = await asyncio.gather(*(write(stores[n % PROCESSES], n) for n in range(120)))
    assert sorted(numbers) == list(range(1, 121))
    seen: list[int] = []
    page = await stores[1].messages.page_before(chat.id, None, 1)
    assert page is not None
    cursor = page.messages[0]
    seen.append(cursor.seq)
    while True:  # a reader paging forward sees each exactly once, in number order
        after = await stores[2].messages.page_after(chat.id, cursor.id, 7)
        if after is None or not after.messages:
            break
        seen.extend(m.seq for m in after.messages)
        cursor = after.messages[-1]
    first = await stores[3].messages.page_before(chat.id, None, 200)
    assert first is not None
    assert [m.seq for m in first.messages] == list(range(1, 121))
    assert seen == [120]  # page_before(None, 1) gave the newest; nothing comes after it
    summary = await stores[0].chats.summary(chat.id, ann.id)
    assert summary is not None
    assert summary.last_message is not None


async def test_one_message_for_a_client_id_sent_by_many_processes_at_once(
    stores: list[SqlStorage],
) -> None:
    ann = make_user("Ann")
    await stores[0].users.create(ann)
    chat = make_chat(ann, title="retries")
    await stores[0].chats.create(chat, [ann.id])
    results = await asyncio.gather(
        *(
            store.messages.create(make_message(chat, ann, "once", client_id="retry-1"))
            for store in stores
            for _ in range(3)
        )
    )
    assert sum(created for _, created in results) == 1
    assert len({message.id for message, _ in results}) == 1
    page = await stores[0].messages.page_before(chat.id, None, 10)
    assert page is not None
    assert [m.text for m in page.messages] == ["once"]


async def test_only_one_first_account_however_many_race(stores: list[SqlStorage]) -> None:
    results = await asyncio.gather(
        *(store.users.create_first(make_user(f"First {n}")) for n, store in enumerate(stores))
    )
    assert sorted(results) == [False, False, False, True]
    assert await stores[0].users.count() == 1


async def test_one_direct_chat_however_many_race(stores: list[SqlStorage]) -> None:
    ann, ben = make_user("Ann"), make_user("Ben")
    await stores[0].users.create(ann)
    await stores[0].users.create(ben)
    key = f"{ann.id}:{ben.id}"
    results = await asyncio.gather(
        *(store.chats.create(make_chat(ann, direct_key=key), [ann.id, ben.id]) for store in stores),
        return_exceptions=True,
    )
    assert sum(result is None for result in results) == 1
    assert all(isinstance(r, DuplicateError) for r in results if r is not None)


async def test_the_last_chunks_arriving_together_complete_the_file(
    stores: list[SqlStorage],
) -> None:
    ann = make_user("Ann")
    await stores[0].users.create(ann)
    record = make_file(ann, size=40, chunk_size=4)
    await stores[0].files.create(record)
    expires = utcnow() + timedelta(hours=1)
    receipts = await asyncio.gather(
        *(
            stores[index % PROCESSES].files.record_chunk(
                record.id, index, bytes([index]) * 32, expires_at=expires
            )
            for index in range(10)
        )
    )
    assert max(receipt.received_chunks for receipt in receipts) == 10
    assert sum(receipt.complete for receipt in receipts) >= 1
    stored = await stores[1].files.get(record.id)
    assert stored is not None
    assert stored.status == "complete"
    assert stored.content_hash


async def test_a_restarted_server_is_used_again_and_a_stopped_one_is_a_clear_error(
    postgres: PostgresProcess,
) -> None:
    storage = await open_postgres_storage(postgres.new_database(), pool_size=3)
    ann = make_user("Ann")
    await storage.users.create(ann)
    for _ in range(3):  # fill the pool with connections the restart will kill
        await asyncio.gather(*(storage.users.get(ann.id) for _ in range(3)))
    postgres.restart()
    assert await storage.users.get(ann.id) == ann
    postgres.stop()
    try:
        with pytest.raises(StorageUnavailable):
            await storage.users.get(ann.id)
    finally:
        postgres.start()
    assert await storage.users.get(ann.id) == ann
    await storage.close()


async def test_an_unreachable_database_is_named_at_start(postgres: PostgresProcess) -> None:
    url = f"postgresql://hypersend:secret@127.0.0.1:{postgres.port}/no_such_database"
    with pytest.raises(StorageUnavailable) as caught:
        await open_postgres_storage(url, pool_size=2)
    assert "DATABASE_URL=postgresql://hypersend:***@127.0.0.1" in str(caught.value)
    assert "secret" not in str(caught.value)


def test_shared_sql_parameters_in_psycopg_spelling() -> None:
    assert to_psycopg("SELECT * FROM t WHERE a = ? AND b LIKE :p ESCAPE '\\'") == (
        "SELECT * FROM t WHERE a = %s AND b LIKE %(p)s ESCAPE '\\'"
    )
    assert to_psycopg("SELECT '?:x%' || ?, 5 % 2") == "SELECT '?:x%' || %s, 5 %% 2"


async def test_messages_stored_before_search_are_found_after_the_upgrade(
    postgres: PostgresProcess,
) -> None:
    url = postgres.new_database()
    with psycopg.connect(url, autocommit=True) as old:  # a database as version 6 left it
        for step in MIGRATIONS[:6]:
            assert isinstance(step, str)
            old.execute(step)
        old.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        old.execute("INSERT INTO schema_version VALUES (6)")
        old.execute(
            "INSERT INTO users (id, email, name, password_hash, created_at)"
            " VALUES ('u1', 'a@b.c', 'A', 'h', %(t)s)",
            {"t": WHEN},
        )
        old.execute(
            "INSERT INTO chats (id, type, created_by, created_at, updated_at, last_seq)"
            " VALUES ('c1', 'group', 'u1', %(t)s, %(t)s, 2)",
            {"t": WHEN},
        )
        old.execute(
            "INSERT INTO chat_members (chat_id, user_id, joined_at) VALUES ('c1', 'u1', %(t)s)",
            {"t": WHEN},
        )
        old.execute(
            "INSERT INTO files (id, owner_id, filename, size, mime, chunk_size, total_chunks,"
            " status, created_at) VALUES ('f1', 'u1', 'Budget-2027.xlsx', 1, 'x', 1, 1,"
            " 'complete', %(t)s)",
            {"t": WHEN},
        )
        old.execute(
            "INSERT INTO messages (id, chat_id, seq, sender_id, kind, text, file_id, created_at)"
            " VALUES ('m1', 'c1', 1, 'u1', 'text', 'Grüße aus Köln', NULL, %(t)s),"
            " ('m2', 'c1', 2, 'u1', 'file', NULL, 'f1', %(t)s)",
            {"t": WHEN},
        )
    storage = await open_postgres_storage(url, pool_size=2)
    try:
        for word, expected in (("köln", ["m1"]), ("budget", ["m2"]), ("2027", ["m2"])):
            page = await storage.messages.search("u1", [word], chat_id=None, before=None, limit=5)
            assert page is not None
            assert [m.id for m in page.messages] == expected
    finally:
        await storage.close()
