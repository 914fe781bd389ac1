"""A SQL store (SQLite or PostgreSQL) as the target of `hypersend migrate`: each page is one
transaction of `INSERT ... ON CONFLICT DO NOTHING`, so a copy run again skips what is there."""

from dataclasses import fields
from datetime import datetime
from typing import Any

from hypersend.storage.copying import TABLES, ChatRecord, ChunkRecord, ThumbnailRecord
from hypersend.storage.models import (
    ChatMember,
    FileRecord,
    Invite,
    Message,
    Session,
    Transfer,
    User,
)
from hypersend.storage.sql import SqlStorage
from hypersend.storage.sql.columns import to_db_reactions, to_db_time
from hypersend.storage.sql.search_text import search_text

Columns = dict[str, Any]


def columns_of(record: Any, *, drop: tuple[str, ...] = (), **extra: Any) -> Columns:
    """A model's fields as column values (times as text, flags as 0/1), less the fields
    named in `drop`, plus `extra` columns."""
    values: Columns = {}
    for field in fields(record):
        if field.name in drop:
            continue
        value = getattr(record, field.name)
        if isinstance(value, datetime):
            value = to_db_time(value)
        elif isinstance(value, bool):
            value = int(value)
        values[field.name] = value
    return values | extra


class SqlCopyTarget:
    def __init__(self, storage: SqlStorage) -> None:
        self._db = storage.db

    async def counts(self) -> dict[str, int]:
        return await self._db.read(
            lambda c: {
                table: int(c.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                for table in TABLES
            }
        )

    async def user_ids(self) -> set[str]:
        rows = await self._db.read(lambda c: c.execute("SELECT id FROM users").fetchall())
        return {row[0] for row in rows}

    async def put_users(self, page: list[User]) -> None:
        await self._put("users", [columns_of(user) for user in page])

    async def put_sessions(self, page: list[Session]) -> None:
        await self._put("sessions", [columns_of(session) for session in page])

    async def put_invites(self, page: list[Invite]) -> None:
        await self._put("invites", [columns_of(invite) for invite in page])

    async def put_chats(self, page: list[ChatRecord]) -> None:
        await self._put(
            "chats",
            [
                columns_of(r.chat, last_message_id=r.last_message_id, last_seq=r.last_seq)
                for r in page
            ],
        )

    async def put_chat_members(self, page: list[ChatMember]) -> None:
        await self._put("chat_members", [columns_of(m, drop=("name",)) for m in page])

    async def put_files(self, page: list[FileRecord]) -> None:
        await self._put("files", [columns_of(record) for record in page])

    async def put_file_chunks(self, page: list[ChunkRecord]) -> None:
        await self._put(
            "file_chunks",
            [{"file_id": c.file_id, "idx": c.index, "sha256": c.sha256} for c in page],
        )

    async def put_thumbnails(self, page: list[ThumbnailRecord]) -> None:
        await self._put(
            "thumbnails",
            [
                {"file_id": t.file_id, "mime": t.thumbnail.mime, "data": t.thumbnail.data}
                for t in page
            ],
        )

    async def put_messages(self, page: list[Message]) -> None:
        await self._put(
            "messages",
            [
                columns_of(
                    m,
                    drop=("file", "quote", "reactions"),
                    file_id=m.file.id if m.file else None,
                    reactions=to_db_reactions(m.reactions),
                    search_text=search_text(m.text, m.file.filename if m.file else None),
                )
                for m in page
            ],
        )

    async def put_transfers(self, page: list[Transfer]) -> None:
        await self._put("transfers", [columns_of(transfer) for transfer in page])

    async def _put(self, table: str, rows: list[Columns]) -> None:
        if not rows:
            return
        names = list(rows[0])
        sql = (
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            " ON CONFLICT DO NOTHING"
        )
        values = [tuple(row[name] for name in names) for row in rows]
        await self._db.write(lambda c: c.executemany(sql, values))
