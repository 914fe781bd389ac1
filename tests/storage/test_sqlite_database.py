"""What only the SQLite backend promises: WAL, versioned migrations, foreign keys."""

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

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

    def half_done(c: sqlite3.Connection) -> None:
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

    def slow_write(c: sqlite3.Connection) -> None:
        loop.call_soon_threadsafe(started.set)
        c.execute("SELECT 1")
        time.sleep(0.5)

    writing = asyncio.create_task(db.write(slow_write))
    await started.wait()
    value = await asyncio.wait_for(db.read(lambda c: c.execute("SELECT 42").fetchone()[0]), 0.4)
    assert value == 42
    await writing
    await db.close()
