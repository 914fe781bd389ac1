"""Messages in SQL (SQLite and PostgreSQL alike), each read with its file and its quote."""

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from hypersend.storage.models import (
    FileRef,
    Message,
    MessagePage,
    Quote,
    Reactions,
)
from hypersend.storage.sql.columns import (
    from_db_reactions,
    from_db_time,
    to_db_reactions,
    to_db_time,
)
from hypersend.storage.sql.database import Row, SqlConnection, SqlDatabase, UniqueViolation
from hypersend.storage.sql.search_text import search_text

_MESSAGE_COLUMNS = (
    "m.id, m.chat_id, m.seq, m.sender_id, m.kind, m.text, m.file_id, m.client_id,"
    " m.created_at, m.deleted, m.edited_at, m.reply_to_id, m.reactions,"
    " f.filename AS file_name, f.size AS file_size, f.mime AS file_mime,"
    " t.mime AS file_thumbnail,"
    " r.sender_id AS quote_sender_id, r.text AS quote_text, r.deleted AS quote_deleted,"
    " rf.filename AS quote_file_name"
)


_WITH_FILE_AND_QUOTE = (
    "LEFT JOIN files f ON f.id = m.file_id LEFT JOIN thumbnails t ON t.file_id = m.file_id"
    " LEFT JOIN messages r ON r.id = m.reply_to_id LEFT JOIN files rf ON rf.id = r.file_id"
)

MESSAGES_SELECT = f"SELECT {_MESSAGE_COLUMNS} FROM messages m {_WITH_FILE_AND_QUOTE}"


def message_from_row(row: Row) -> Message:
    file = None
    if row["file_id"] is not None and row["file_name"] is not None:
        file = FileRef(
            row["file_id"],
            row["file_name"],
            row["file_size"],
            row["file_mime"],
            has_thumbnail=bool(row["file_thumbnail"]),
        )
    return Message(
        id=row["id"],
        chat_id=row["chat_id"],
        seq=row["seq"],
        sender_id=row["sender_id"],
        kind=row["kind"],
        text=row["text"],
        file=file,
        created_at=from_db_time(row["created_at"]),
        deleted=bool(row["deleted"]),
        client_id=row["client_id"],
        edited_at=from_db_time(row["edited_at"]) if row["edited_at"] else None,
        reply_to_id=row["reply_to_id"],
        quote=_quote_from_row(row),
        reactions=from_db_reactions(row["reactions"]),
    )


def _quote_from_row(row: Row) -> Quote | None:
    if row["reply_to_id"] is None or row["quote_sender_id"] is None:
        return None
    return Quote(
        message_id=row["reply_to_id"],
        sender_id=row["quote_sender_id"],
        text=row["quote_text"],
        file_name=row["quote_file_name"],
        deleted=bool(row["quote_deleted"]),
    )


def _seq_of(c: SqlConnection, chat_id: str, message_id: str) -> int | None:
    row = c.execute(
        "SELECT seq FROM messages WHERE id = ? AND chat_id = ?", (message_id, chat_id)
    ).fetchone()
    return int(row[0]) if row else None


def _select_message(c: SqlConnection, message_id: str) -> Message | None:
    row = c.execute(f"{MESSAGES_SELECT} WHERE m.id = ?", (message_id,)).fetchone()
    return message_from_row(row) if row else None


def _sent_before(c: SqlConnection, message: Message) -> Message | None:
    """The message its sender already sent with the same `client_id`, if any."""
    row = c.execute(
        f"{MESSAGES_SELECT} WHERE m.sender_id = ? AND m.client_id = ?",
        (message.sender_id, message.client_id),
    ).fetchone()
    return message_from_row(row) if row else None


def _page_of(rows: list[Row] | None, limit: int) -> MessagePage | None:
    """The first `limit` of `rows` (one more was asked for, to know whether there are more);
    None when there were no rows to ask for (the message to page from is not there)."""
    if rows is None:
        return None
    return MessagePage([message_from_row(row) for row in rows[:limit]], has_more=len(rows) > limit)


class SqlMessages:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def create(self, message: Message) -> tuple[Message, bool]:
        """The chat's row hands out the number and stays locked until the commit, so
        numbers commit in order, whichever process writes."""

        def insert(c: SqlConnection) -> tuple[Message, bool]:
            if message.client_id is not None and (sent := _sent_before(c, message)):
                return sent, False
            (seq,) = c.execute(
                "UPDATE chats SET updated_at = ?, last_message_id = ?, last_seq = last_seq + 1"
                " WHERE id = ? RETURNING last_seq",
                (to_db_time(message.created_at), message.id, message.chat_id),
            ).fetchone()
            c.execute(
                "INSERT INTO messages (id, chat_id, seq, sender_id, kind, text, file_id,"
                " client_id, created_at, reply_to_id, search_text)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message.id,
                    message.chat_id,
                    seq,
                    message.sender_id,
                    message.kind,
                    message.text,
                    message.file.id if message.file else None,
                    message.client_id,
                    to_db_time(message.created_at),
                    message.reply_to_id,
                    search_text(message.text, message.file.filename if message.file else None),
                ),
            )
            return replace(message, seq=seq), True

        try:
            return await self._db.write(insert)
        except UniqueViolation:  # the same client_id, sent at the same moment elsewhere
            if sent := await self._db.read(lambda c: _sent_before(c, message)):
                return sent, False
            raise

    async def get(self, message_id: str) -> Message | None:
        return await self._db.read(lambda c: _select_message(c, message_id))

    async def page_before(self, chat_id: str, before: str | None, limit: int) -> MessagePage | None:
        def load(c: SqlConnection) -> list[Row] | None:
            if before is None:
                return c.execute(
                    f"{MESSAGES_SELECT} WHERE m.chat_id = ? ORDER BY m.seq DESC LIMIT ?",
                    (chat_id, limit + 1),
                ).fetchall()
            seq = _seq_of(c, chat_id, before)
            if seq is None:
                return None
            return c.execute(
                f"{MESSAGES_SELECT} WHERE m.chat_id = ? AND m.seq < ? ORDER BY m.seq DESC LIMIT ?",
                (chat_id, seq, limit + 1),
            ).fetchall()

        page = _page_of(await self._db.read(load), limit)
        if page is not None:
            page.messages.reverse()  # read newest first, shown oldest first
        return page

    async def page_after(self, chat_id: str, after: str, limit: int) -> MessagePage | None:
        def load(c: SqlConnection) -> list[Row] | None:
            seq = _seq_of(c, chat_id, after)
            if seq is None:
                return None
            return c.execute(
                f"{MESSAGES_SELECT} WHERE m.chat_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?",
                (chat_id, seq, limit + 1),
            ).fetchall()

        return _page_of(await self._db.read(load), limit)

    async def search(
        self,
        user_id: str,
        prefixes: list[str],
        *,
        chat_id: str | None,
        before: str | None,
        limit: int,
    ) -> MessagePage | None:
        search = self._db.text_search
        conditions = [search.condition, "m.deleted = 0"]
        parameters: list[object] = [search.query(prefixes)]
        if chat_id is not None:
            conditions.append("m.chat_id = ?")
            parameters.append(chat_id)

        def load(c: SqlConnection) -> list[Row] | None:
            where, values = list(conditions), list(parameters)
            if before is not None:
                cursor = c.execute(
                    "SELECT m.created_at, m.id FROM messages m JOIN chat_members cm"
                    " ON cm.chat_id = m.chat_id AND cm.user_id = ? WHERE m.id = ?",
                    (user_id, before),
                ).fetchone()
                if cursor is None:
                    return None
                where.append("(m.created_at < ? OR (m.created_at = ? AND m.id < ?))")
                values += [cursor[0], cursor[0], cursor[1]]
            return c.execute(
                f"SELECT {_MESSAGE_COLUMNS} FROM messages m {search.join}"
                " JOIN chat_members cm ON cm.chat_id = m.chat_id AND cm.user_id = ?"
                f" {_WITH_FILE_AND_QUOTE} WHERE {' AND '.join(where)}"
                " ORDER BY m.created_at DESC, m.id DESC LIMIT ?",
                (user_id, *values, limit + 1),
            ).fetchall()

        return _page_of(await self._db.read(load), limit)

    async def edit_text(self, message_id: str, text: str, edited_at: datetime) -> Message | None:
        def edit(c: SqlConnection) -> Message | None:
            cursor = c.execute(
                "UPDATE messages SET text = ?, edited_at = ?, search_text = ?"
                " WHERE id = ? AND kind = 'text' AND deleted = 0",
                (text, to_db_time(edited_at), search_text(text, None), message_id),
            )
            return _select_message(c, message_id) if cursor.rowcount == 1 else None

        return await self._db.write(edit)

    async def change_reactions(
        self, message_id: str, change: Callable[[Reactions], Reactions]
    ) -> Message | None:
        def apply(c: SqlConnection) -> Message | None:
            # Updating the row first locks it until the commit: writers of one message's
            # reactions take turns, each reading what the one before wrote.
            row = c.execute(
                "UPDATE messages SET reactions = reactions WHERE id = ? AND deleted = 0"
                " RETURNING reactions",
                (message_id,),
            ).fetchone()
            if row is None:
                return None
            changed = change(from_db_reactions(row[0]))
            c.execute(
                "UPDATE messages SET reactions = ? WHERE id = ?",
                (to_db_reactions(changed), message_id),
            )
            return _select_message(c, message_id)

        return await self._db.write(apply)

    async def mark_deleted(self, message_id: str) -> None:
        await self._db.write(
            lambda c: c.execute(
                "UPDATE messages SET deleted = 1, text = NULL, file_id = NULL, reactions = NULL,"
                " search_text = NULL WHERE id = ?",
                (message_id,),
            )
        )
