"""Chats, their members and their messages in SQL (SQLite and PostgreSQL alike)."""

from collections import defaultdict
from dataclasses import replace
from datetime import datetime

from hypersend.clock import utcnow
from hypersend.storage.errors import DuplicateError
from hypersend.storage.models import (
    Chat,
    ChatMember,
    ChatSummary,
    FileRef,
    Message,
    MessagePage,
    Quote,
)
from hypersend.storage.sql.columns import from_db_time, to_db_time
from hypersend.storage.sql.database import Row, SqlConnection, SqlDatabase, UniqueViolation

_MESSAGE_COLUMNS = (
    "m.id, m.chat_id, m.seq, m.sender_id, m.kind, m.text, m.file_id, m.client_id,"
    " m.created_at, m.deleted, m.edited_at, m.reply_to_id,"
    " f.filename AS file_name, f.size AS file_size, f.mime AS file_mime,"
    " r.sender_id AS quote_sender_id, r.text AS quote_text, r.deleted AS quote_deleted,"
    " rf.filename AS quote_file_name"
)
MESSAGES_SELECT = (
    f"SELECT {_MESSAGE_COLUMNS} FROM messages m LEFT JOIN files f ON f.id = m.file_id"
    " LEFT JOIN messages r ON r.id = m.reply_to_id LEFT JOIN files rf ON rf.id = r.file_id"
)
MEMBERS_SELECT = (
    "SELECT cm.chat_id, cm.user_id, cm.joined_at, cm.last_read_message_id, cm.last_read_seq,"
    " u.name"
    " FROM chat_members cm JOIN users u ON u.id = cm.user_id"
)


def chat_from_row(row: Row) -> Chat:
    return Chat(
        id=row["id"],
        type=row["type"],
        title=row["title"],
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),
        updated_at=from_db_time(row["updated_at"]),
        direct_key=row["direct_key"],
    )


def member_from_row(row: Row) -> ChatMember:
    return ChatMember(
        chat_id=row["chat_id"],
        user_id=row["user_id"],
        name=row["name"],
        joined_at=from_db_time(row["joined_at"]),
        last_read_message_id=row["last_read_message_id"],
        last_read_seq=row["last_read_seq"],
    )


def message_from_row(row: Row) -> Message:
    file = None
    if row["file_id"] is not None and row["file_name"] is not None:
        file = FileRef(row["file_id"], row["file_name"], row["file_size"], row["file_mime"])
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


def _summaries(c: SqlConnection, user_id: str, chat_id: str | None) -> list[ChatSummary]:
    """A user's chat list (or one chat of it) in three queries; read it in one snapshot."""
    only = "" if chat_id is None else " AND cm.chat_id = :chat"
    params = {"user": user_id, "chat": chat_id}
    chats = c.execute(
        "SELECT c.*, (SELECT count(*) FROM messages x WHERE x.chat_id = c.id"
        "   AND x.seq > cm.last_read_seq"
        "   AND x.sender_id != cm.user_id AND x.deleted = 0) AS unread"
        " FROM chat_members cm JOIN chats c ON c.id = cm.chat_id"
        f" WHERE cm.user_id = :user{only} ORDER BY c.updated_at DESC, c.id DESC",
        params,
    ).fetchall()
    members = c.execute(
        f"{MEMBERS_SELECT} WHERE cm.chat_id IN"
        f" (SELECT cm.chat_id FROM chat_members cm WHERE cm.user_id = :user{only})"
        " ORDER BY cm.joined_at, cm.user_id",
        params,
    ).fetchall()
    last_messages = c.execute(
        f"{MESSAGES_SELECT} WHERE m.id IN (SELECT c.last_message_id FROM chats c"
        f" JOIN chat_members cm ON cm.chat_id = c.id WHERE cm.user_id = :user{only})",
        params,
    ).fetchall()
    members_by_chat: defaultdict[str, list[ChatMember]] = defaultdict(list)
    for row in members:
        members_by_chat[row["chat_id"]].append(member_from_row(row))
    messages = {row["id"]: message_from_row(row) for row in last_messages}
    return [
        ChatSummary(
            chat=chat_from_row(row),
            members=members_by_chat[row["id"]],
            last_message=messages.get(row["last_message_id"]),
            unread_count=row["unread"],
        )
        for row in chats
    ]


class SqlChats:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def create(self, chat: Chat, member_ids: list[str]) -> None:
        def insert(c: SqlConnection) -> None:
            c.execute(
                "INSERT INTO chats (id, type, title, direct_key, created_by, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    chat.id,
                    chat.type,
                    chat.title,
                    chat.direct_key,
                    chat.created_by,
                    to_db_time(chat.created_at),
                    to_db_time(chat.updated_at),
                ),
            )
            joined = to_db_time(chat.created_at)
            c.executemany(
                "INSERT INTO chat_members (chat_id, user_id, joined_at) VALUES (?, ?, ?)",
                [(chat.id, user_id, joined) for user_id in dict.fromkeys(member_ids)],
            )

        try:
            await self._db.write(insert)
        except UniqueViolation as exc:
            raise DuplicateError(f"direct chat {chat.direct_key} exists") from exc

    async def get(self, chat_id: str) -> Chat | None:
        row = await self._db.read(
            lambda c: c.execute("SELECT * FROM chats WHERE id = ?", (chat_id,)).fetchone()
        )
        return chat_from_row(row) if row else None

    async def get_direct(self, direct_key: str) -> Chat | None:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT * FROM chats WHERE direct_key = ?", (direct_key,)
            ).fetchone()
        )
        return chat_from_row(row) if row else None

    async def members(self, chat_id: str) -> list[ChatMember]:
        rows = await self._db.read(
            lambda c: c.execute(
                f"{MEMBERS_SELECT} WHERE cm.chat_id = ? ORDER BY cm.joined_at, cm.user_id",
                (chat_id,),
            ).fetchall()
        )
        return [member_from_row(row) for row in rows]

    async def member(self, chat_id: str, user_id: str) -> ChatMember | None:
        row = await self._db.read(
            lambda c: c.execute(
                f"{MEMBERS_SELECT} WHERE cm.chat_id = ? AND cm.user_id = ?", (chat_id, user_id)
            ).fetchone()
        )
        return member_from_row(row) if row else None

    async def share_a_chat(self, user_id: str, other_id: str) -> bool:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT 1 FROM chat_members AS mine JOIN chat_members AS theirs"
                " ON theirs.chat_id = mine.chat_id AND theirs.user_id = ?"
                " WHERE mine.user_id = ? LIMIT 1",
                (other_id, user_id),
            ).fetchone()
        )
        return row is not None

    async def add_member(self, chat_id: str, user_id: str) -> bool:
        now = to_db_time(utcnow())

        def insert(c: SqlConnection) -> bool:
            cursor = c.execute(
                "INSERT INTO chat_members (chat_id, user_id, joined_at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (chat_id, user_id, now),
            )
            if cursor.rowcount:
                c.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
            return cursor.rowcount == 1

        return await self._db.write(insert)

    async def remove_member(self, chat_id: str, user_id: str) -> bool:
        cursor = await self._db.write(
            lambda c: c.execute(
                "DELETE FROM chat_members WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
            )
        )
        return cursor.rowcount == 1

    async def touch(self, chat_id: str) -> None:
        now = to_db_time(utcnow())
        await self._db.write(
            lambda c: c.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))
        )

    async def list_for_user(self, user_id: str) -> list[ChatSummary]:
        return await self._db.read(lambda c: _summaries(c, user_id, None), snapshot=True)

    async def summary(self, chat_id: str, user_id: str) -> ChatSummary | None:
        found = await self._db.read(lambda c: _summaries(c, user_id, chat_id), snapshot=True)
        return found[0] if found else None

    async def advance_read_pointer(self, chat_id: str, user_id: str, message_id: str) -> str:
        def advance(c: SqlConnection) -> str:
            c.execute(
                "UPDATE chat_members SET last_read_message_id = :message, last_read_seq = m.seq"
                " FROM messages m WHERE m.id = :message AND m.chat_id = :chat"
                " AND chat_members.chat_id = :chat AND chat_members.user_id = :user"
                " AND chat_members.last_read_seq < m.seq",
                {"message": message_id, "chat": chat_id, "user": user_id},
            )
            row = c.execute(
                "SELECT last_read_message_id FROM chat_members WHERE chat_id = ? AND user_id = ?",
                (chat_id, user_id),
            ).fetchone()
            return str(row[0]) if row and row[0] else message_id

        return await self._db.write(advance)


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
                " client_id, created_at, reply_to_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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

        rows = await self._db.read(load)
        if rows is None:
            return None
        page = [message_from_row(row) for row in rows[:limit]]
        page.reverse()
        return MessagePage(page, has_more=len(rows) > limit)

    async def page_after(self, chat_id: str, after: str, limit: int) -> MessagePage | None:
        def load(c: SqlConnection) -> list[Row] | None:
            seq = _seq_of(c, chat_id, after)
            if seq is None:
                return None
            return c.execute(
                f"{MESSAGES_SELECT} WHERE m.chat_id = ? AND m.seq > ? ORDER BY m.seq LIMIT ?",
                (chat_id, seq, limit + 1),
            ).fetchall()

        rows = await self._db.read(load)
        if rows is None:
            return None
        return MessagePage(
            [message_from_row(row) for row in rows[:limit]], has_more=len(rows) > limit
        )

    async def edit_text(self, message_id: str, text: str, edited_at: datetime) -> bool:
        cursor = await self._db.write(
            lambda c: c.execute(
                "UPDATE messages SET text = ?, edited_at = ?"
                " WHERE id = ? AND kind = 'text' AND deleted = 0",
                (text, to_db_time(edited_at), message_id),
            )
        )
        return cursor.rowcount == 1

    async def mark_deleted(self, message_id: str) -> None:
        await self._db.write(
            lambda c: c.execute(
                "UPDATE messages SET deleted = 1, text = NULL, file_id = NULL WHERE id = ?",
                (message_id,),
            )
        )
