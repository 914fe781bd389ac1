"""Sign-in sessions in SQL (SQLite and PostgreSQL alike)."""

from datetime import datetime

from hypersend.storage.models import Session
from hypersend.storage.sql.columns import from_db_time, to_db_time
from hypersend.storage.sql.database import Row, SqlDatabase


def session_from_row(row: Row) -> Session:
    return Session(
        id=row["id"],
        user_id=row["user_id"],
        created_at=from_db_time(row["created_at"]),
        expires_at=from_db_time(row["expires_at"]),
        refresh_generation=row["refresh_generation"],
        revoked=bool(row["revoked"]),
        client_address=row["client_address"],
        user_agent=row["user_agent"],
    )


class SqlSessions:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def create(self, session: Session) -> None:
        await self._db.write(
            lambda c: c.execute(
                "INSERT INTO sessions (id, user_id, created_at, expires_at, refresh_generation,"
                " revoked, client_address, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    session.id,
                    session.user_id,
                    to_db_time(session.created_at),
                    to_db_time(session.expires_at),
                    session.refresh_generation,
                    int(session.revoked),
                    session.client_address,
                    session.user_agent,
                ),
            )
        )

    async def get(self, session_id: str) -> Session | None:
        row = await self._db.read(
            lambda c: c.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        )
        return session_from_row(row) if row else None

    async def rotate_refresh(
        self, session_id: str, *, from_generation: int, expires_at: datetime
    ) -> bool:
        cursor = await self._db.write(
            lambda c: c.execute(
                "UPDATE sessions SET refresh_generation = refresh_generation + 1, expires_at = ?"
                " WHERE id = ? AND refresh_generation = ? AND revoked = 0",
                (to_db_time(expires_at), session_id, from_generation),
            )
        )
        return cursor.rowcount == 1

    async def revoke(self, session_id: str) -> None:
        await self._db.write(
            lambda c: c.execute("UPDATE sessions SET revoked = 1 WHERE id = ?", (session_id,))
        )

    async def revoke_all_for_user(self, user_id: str) -> None:
        await self._db.write(
            lambda c: c.execute("UPDATE sessions SET revoked = 1 WHERE user_id = ?", (user_id,))
        )
