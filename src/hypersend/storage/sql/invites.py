"""Invite codes in SQL (SQLite and PostgreSQL alike)."""

from datetime import datetime

from hypersend.storage.models import Invite
from hypersend.storage.sql.columns import from_db_time, to_db_time
from hypersend.storage.sql.database import Row, SqlDatabase


def invite_from_row(row: Row) -> Invite:
    return Invite(
        code=row["code"],
        created_by=row["created_by"],
        created_at=from_db_time(row["created_at"]),
        expires_at=from_db_time(row["expires_at"]),
        max_uses=row["max_uses"],
        uses=row["uses"],
    )


class SqlInvites:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def create(self, invite: Invite) -> None:
        await self._db.write(
            lambda c: c.execute(
                "INSERT INTO invites (code, created_by, created_at, expires_at, max_uses, uses)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    invite.code,
                    invite.created_by,
                    to_db_time(invite.created_at),
                    to_db_time(invite.expires_at),
                    invite.max_uses,
                    invite.uses,
                ),
            )
        )

    async def get(self, code: str) -> Invite | None:
        row = await self._db.read(
            lambda c: c.execute("SELECT * FROM invites WHERE code = ?", (code,)).fetchone()
        )
        return invite_from_row(row) if row else None

    async def list_all(self) -> list[Invite]:
        rows = await self._db.read(
            lambda c: c.execute("SELECT * FROM invites ORDER BY created_at DESC").fetchall()
        )
        return [invite_from_row(row) for row in rows]

    async def delete(self, code: str) -> bool:
        cursor = await self._db.write(
            lambda c: c.execute("DELETE FROM invites WHERE code = ?", (code,))
        )
        return cursor.rowcount == 1

    async def use(self, code: str, now: datetime) -> bool:
        cursor = await self._db.write(
            lambda c: c.execute(
                "UPDATE invites SET uses = uses + 1"
                " WHERE code = ? AND uses < max_uses AND expires_at > ?",
                (code, to_db_time(now)),
            )
        )
        return cursor.rowcount == 1

    async def release(self, code: str) -> None:
        await self._db.write(
            lambda c: c.execute(
                "UPDATE invites SET uses = uses - 1 WHERE code = ? AND uses > 0", (code,)
            )
        )
