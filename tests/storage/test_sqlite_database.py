"""What only the SQLite backend promises: WAL, versioned migrations, foreign keys."""

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from hypersend.storage.sql.database import SqlConnection
from hypersend.storage.sqlite.database import SqliteDatabase
from hypersend.storage.sqlite.migrations import MIGRATIONS


async def test_schema_is_versioned_and_migrations_are_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "hs.db"
    for _ in range(2):
        db = SqliteDatabase(path, durable=True)
        await db.open()
        await db.close()
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_a_failed_write_rolls_back_every_statement(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "hs.db", durable=False)
    await db.open()

    def half_done(c: SqlConnection) -> None:
        c.execute(
            "INSERT INTO users (id, email, name, password_hash, created_at)"
            " VALUES ('u1', 'a@b.c', 'A', 'h', '2026-01-01T00:00:00.000000Z')"
        )
        c.execute(
            "INSERT INTO sessions (id, user_id, created_at, expires_at)"
            " VALUES ('s', 'nobody', '', '')"
        )

    with pytest.raises(sqlite3.IntegrityError):
        await db.write(half_done)
    count = await db.read(lambda c: c.execute("SELECT count(*) FROM users").fetchone()[0])
    assert count == 0
    await db.close()


async def test_reads_proceed_while_a_write_is_running(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "hs.db", durable=False)
    await db.open()
    started = asyncio.Event()
    loop = asyncio.get_running_loop()

    def slow_write(c: SqlConnection) -> None:
        loop.call_soon_threadsafe(started.set)
        c.execute("SELECT 1")
        time.sleep(0.5)

    writing = asyncio.create_task(db.write(slow_write))
    await started.wait()
    value = await asyncio.wait_for(db.read(lambda c: c.execute("SELECT 42").fetchone()[0]), 0.4)
    assert value == 42
    await writing
    await db.close()


async def test_messages_stored_before_numbering_are_numbered_in_id_order(tmp_path: Path) -> None:
    path = tmp_path / "hs.db"
    with sqlite3.connect(path) as old:  # a database as version 6 left it
        for script in MIGRATIONS[:6]:
            assert isinstance(script, str)
            old.executescript(script)
        old.execute("PRAGMA user_version = 6")
        old.executescript(
            "INSERT INTO users (id, email, name, password_hash, created_at)"
            " VALUES ('u1', 'a@b.c', 'A', 'h', 't'), ('u2', 'b@b.c', 'B', 'h', 't');"
            "INSERT INTO chats (id, type, created_by, created_at, updated_at, last_message_id)"
            " VALUES ('c1', 'group', 'u1', 't', 't', 'm3'), ('c2', 'group', 'u1', 't', 't', 'm9');"
            "INSERT INTO chat_members (chat_id, user_id, joined_at, last_read_message_id)"
            " VALUES ('c1', 'u1', 't', NULL), ('c1', 'u2', 't', 'm2'), ('c2', 'u1', 't', 'm9');"
            "INSERT INTO messages (id, chat_id, sender_id, kind, text, created_at) VALUES"
            " ('m3', 'c1', 'u1', 'text', 'three', 't'), ('m1', 'c1', 'u1', 'text', 'one', 't'),"
            " ('m9', 'c2', 'u1', 'text', 'nine', 't'), ('m2', 'c1', 'u1', 'text', 'two', 't');"
        )
    old.close()
    db = SqliteDatabase(path, durable=False)
    await db.open()
    messages = await db.read(
        lambda c: c.execute("SELECT id, seq FROM messages ORDER BY chat_id, seq").fetchall()
    )
    chats = await db.read(lambda c: c.execute("SELECT id, last_seq FROM chats").fetchall())
    found = await db.read(
        lambda c: c.execute(
            "SELECT m.id FROM message_words w JOIN messages m ON m.rowid = w.rowid"
            " WHERE message_words MATCH '\"thr\"*'"
        ).fetchall()
    )
    pointers = await db.read(
        lambda c: c.execute(
            "SELECT chat_id, user_id, last_read_seq FROM chat_members ORDER BY chat_id, user_id"
        ).fetchall()
    )
    await db.close()
    assert [tuple(row) for row in messages] == [("m1", 1), ("m2", 2), ("m3", 3), ("m9", 1)]
    assert sorted(tuple(row) for row in chats) == [("c1", 3), ("c2", 1)]
    assert [tuple(row) for row in pointers] == [("c1", "u1", 0), ("c1", "u2", 2), ("c2", "u1", 1)]
    assert [row[0] for row in found] == ["m3"]  # given its words by the search upgrade
