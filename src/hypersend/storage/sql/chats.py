"""Chats and their members in SQL (SQLite and PostgreSQL alike)."""

from collections import defaultdict
from datetime import datetime

from hypersend.clock import utcnow
from hypersend.storage.errors import DuplicateError
from hypersend.storage.models import (
    Chat,
    ChatMember,
    ChatSummary,
)
from hypersend.storage.sql.columns import from_db_time, to_db_time
from hypersend.storage.sql.database import Row, SqlConnection, SqlDatabase, UniqueViolation
from hypersend.storage.sql.messages import MESSAGES_SELECT, message_from_row

MEMBERS_SELECT = (
    "SELECT cm.chat_id, cm.user_id, cm.joined_at, cm.last_read_message_id, cm.last_read_seq,"
    " cm.pinned_at, cm.muted, u.name"
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
        pinned_at=from_db_time(row["pinned_at"]) if row["pinned_at"] else None,
        muted=bool(row["muted"]),
    )


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

    async def contacts(self, user_id: str) -> list[str]:
        rows = await self._db.read(
            lambda c: c.execute(
                "SELECT DISTINCT theirs.user_id FROM chat_members AS mine JOIN chat_members AS"
                " theirs ON theirs.chat_id = mine.chat_id AND theirs.user_id != mine.user_id"
                " WHERE mine.user_id = ?",
                (user_id,),
            ).fetchall()
        )
        return [row[0] for row in rows]

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

    async def set_pinned(self, chat_id: str, user_id: str, pinned_at: datetime | None) -> None:
        await self._db.write(
            lambda c: c.execute(
                "UPDATE chat_members SET pinned_at = ? WHERE chat_id = ? AND user_id = ?",
                (to_db_time(pinned_at) if pinned_at else None, chat_id, user_id),
            )
        )

    async def set_muted(self, chat_id: str, user_id: str, muted: bool) -> None:
        await self._db.write(
            lambda c: c.execute(
                "UPDATE chat_members SET muted = ? WHERE chat_id = ? AND user_id = ?",
                (int(muted), chat_id, user_id),
            )
        )

    async def pinned_count(self, user_id: str) -> int:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT count(*) FROM chat_members WHERE user_id = ? AND pinned_at IS NOT NULL",
                (user_id,),
            ).fetchone()
        )
        return int(row[0])

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
