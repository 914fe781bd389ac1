"""Users in SQL (SQLite and PostgreSQL alike)."""

from datetime import datetime

from hypersend.storage.errors import DuplicateError
from hypersend.storage.models import User
from hypersend.storage.sql.columns import from_db_time, to_db_time
from hypersend.storage.sql.database import Row, SqlConnection, SqlDatabase, UniqueViolation


def user_from_row(row: Row) -> User:
    return User(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        password_hash=row["password_hash"],
        created_at=from_db_time(row["created_at"]),
        is_admin=bool(row["is_admin"]),
        disabled=bool(row["disabled"]),
        quota_bytes=row["quota_bytes"],
        presence_hidden=bool(row["presence_hidden"]),
        last_seen_at=from_db_time(row["last_seen_at"]) if row["last_seen_at"] else None,
    )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlUsers:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def create(self, user: User) -> None:
        await self._insert(user, only_if_first=False)

    async def create_first(self, user: User) -> bool:
        return await self._insert(user, only_if_first=True)

    async def _insert(self, user: User, *, only_if_first: bool) -> bool:
        def insert(c: SqlConnection) -> bool:
            if only_if_first and c.execute("SELECT 1 FROM users LIMIT 1").fetchone():
                return False
            c.execute(
                "INSERT INTO users (id, email, name, password_hash, created_at, is_admin,"
                " disabled, quota_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    user.id,
                    user.email,
                    user.name,
                    user.password_hash,
                    to_db_time(user.created_at),
                    int(user.is_admin),
                    int(user.disabled),
                    user.quota_bytes,
                ),
            )
            return True

        try:
            return await self._db.write(insert, serializable=only_if_first)
        except UniqueViolation as exc:
            raise DuplicateError(f"email {user.email!r} is taken") from exc

    async def get(self, user_id: str) -> User | None:
        row = await self._db.read(
            lambda c: c.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        )
        return user_from_row(row) if row else None

    async def get_by_email(self, email: str) -> User | None:
        row = await self._db.read(
            lambda c: c.execute("SELECT * FROM users WHERE email = ?", (email,)).fetchone()
        )
        return user_from_row(row) if row else None

    async def search(
        self, text: str, *, limit: int, exclude_id: str, contacts_of: str | None = None
    ) -> list[User]:
        pattern = f"%{_escape_like(text.lower())}%"
        contacts = (
            " AND id IN (SELECT theirs.user_id FROM chat_members AS mine"
            " JOIN chat_members AS theirs ON theirs.chat_id = mine.chat_id"
            " WHERE mine.user_id = :contacts_of)"
            if contacts_of is not None
            else ""
        )
        query = (
            "SELECT * FROM users WHERE id != :exclude AND disabled = 0"
            " AND (lower(name) LIKE :pattern ESCAPE '\\' OR email LIKE :pattern ESCAPE '\\')"
            f"{contacts} ORDER BY lower(name), id LIMIT :limit"
        )
        parameters = {
            "exclude": exclude_id,
            "pattern": pattern,
            "contacts_of": contacts_of,
            "limit": limit,
        }
        rows = await self._db.read(lambda c: c.execute(query, parameters).fetchall())
        return [user_from_row(row) for row in rows]

    async def get_many(self, user_ids: list[str]) -> list[User]:
        if not user_ids:
            return []
        marks = ",".join("?" * len(user_ids))
        rows = await self._db.read(
            lambda c: c.execute(f"SELECT * FROM users WHERE id IN ({marks})", user_ids).fetchall()
        )
        return [user_from_row(row) for row in rows]

    async def count(self) -> int:
        row = await self._db.read(lambda c: c.execute("SELECT count(*) FROM users").fetchone())
        return int(row[0])

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        await self._db.write(
            lambda c: c.execute(
                "UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user_id)
            )
        )

    async def update(self, user: User) -> None:
        await self._db.write(
            lambda c: c.execute(
                "UPDATE users SET name = ?, password_hash = ?, is_admin = ?, disabled = ?,"
                " quota_bytes = ?, presence_hidden = ? WHERE id = ?",
                (
                    user.name,
                    user.password_hash,
                    int(user.is_admin),
                    int(user.disabled),
                    user.quota_bytes,
                    int(user.presence_hidden),
                    user.id,
                ),
            )
        )

    async def set_last_seen(self, user_id: str, moment: datetime) -> None:
        await self._db.write(
            lambda c: c.execute(
                "UPDATE users SET last_seen_at = ? WHERE id = ?", (to_db_time(moment), user_id)
            )
        )

    async def list_page(self, *, after: str | None, limit: int) -> list[User]:
        rows = await self._db.read(
            lambda c: c.execute(
                "SELECT * FROM users WHERE id > ? ORDER BY id LIMIT ?", (after or "", limit)
            ).fetchall()
        )
        return [user_from_row(row) for row in rows]
