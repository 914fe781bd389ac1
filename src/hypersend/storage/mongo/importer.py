"""Copy every record of an embedded SQLite database into MongoDB (`hypersend migrate`).

Each document is upserted by its id, so running the copy again after an interruption
finishes it without duplicating anything. Pages are read on a worker thread and written with
one unordered bulk write each: memory stays constant whatever the database's size.
"""

import asyncio
from collections.abc import Callable, Iterator
from typing import TypeVar

from pymongo import ReplaceOne

from hypersend.storage.mongo.documents import (
    Database,
    Document,
    chat_doc,
    chunk_doc,
    file_doc,
    invite_doc,
    member_doc,
    message_doc,
    session_doc,
    transfer_doc,
    user_doc,
)
from hypersend.storage.sqlite.snapshot import ChatRecord, ChunkRecord, SqliteSnapshot

R = TypeVar("R")

Progress = Callable[[str, int], None]
"""Called after each page with the table's name and how many of its rows are copied."""

MARKER_COLLECTION = "hypersend_meta"
MARKER_ID = "copied_from_sqlite"


class TargetNotEmpty(Exception):
    """The target database holds accounts that no copy from SQLite put there."""


async def check_target(db: Database) -> None:
    """Refuse a database that is in use already; accept an empty one or an earlier copy's."""
    marker = await db[MARKER_COLLECTION].find_one({"_id": MARKER_ID})
    if marker is None and await db["users"].find_one({}, {"_id": 1}) is not None:
        raise TargetNotEmpty(
            f"the MongoDB database {db.name!r} already holds accounts: copy into an empty one"
        )


async def copy_snapshot(snapshot: SqliteSnapshot, db: Database, progress: Progress) -> None:
    """Copy every table; parents before children, as the server would have written them."""
    await check_target(db)
    await db[MARKER_COLLECTION].replace_one({"_id": MARKER_ID}, {"_id": MARKER_ID}, upsert=True)
    copy = _Copier(db, progress)
    await copy("users", snapshot.users(), user_doc)
    await copy("sessions", snapshot.sessions(), session_doc)
    await copy("invites", snapshot.invites(), invite_doc)
    await copy("chats", snapshot.chats(), _chat_doc)
    await copy(
        "chat_members",
        snapshot.chat_members(),
        lambda m: member_doc(
            m.chat_id, m.user_id, m.joined_at, m.last_read_message_id, m.last_read_seq
        ),
    )
    await copy("files", snapshot.files(), file_doc)
    await copy("file_chunks", snapshot.file_chunks(), _chunk_doc)
    await copy("messages", snapshot.messages(), message_doc)
    await copy("transfers", snapshot.transfers(), transfer_doc)


async def target_counts(db: Database, tables: list[str]) -> dict[str, int]:
    return {table: await db[table].count_documents({}) for table in tables}


def _chat_doc(record: ChatRecord) -> Document:
    return chat_doc(record.chat) | {
        "last_message_id": record.last_message_id,
        "last_seq": record.last_seq,
    }


def _chunk_doc(record: ChunkRecord) -> Document:
    return chunk_doc(record.file_id, record.index, record.sha256)


class _Copier:
    def __init__(self, db: Database, progress: Progress) -> None:
        self._db = db
        self._progress = progress

    async def __call__(
        self, table: str, pages: Iterator[list[R]], to_doc: Callable[[R], Document]
    ) -> None:
        copied = 0
        self._progress(table, copied)
        while (page := await asyncio.to_thread(next, pages, None)) is not None:
            documents = [to_doc(record) for record in page]
            await self._db[table].bulk_write(
                [ReplaceOne({"_id": doc["_id"]}, doc, upsert=True) for doc in documents],
                ordered=False,
            )
            copied += len(documents)
            self._progress(table, copied)
