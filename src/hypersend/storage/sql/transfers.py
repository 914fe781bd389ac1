"""P2P transfer metadata in SQL (SQLite and PostgreSQL alike)."""

from datetime import datetime

from hypersend.storage.models import Transfer
from hypersend.storage.sql.columns import from_db_time, to_db_time
from hypersend.storage.sql.database import Row, SqlDatabase


def transfer_from_row(row: Row) -> Transfer:
    return Transfer(
        id=row["id"],
        sender_id=row["sender_id"],
        receiver_id=row["receiver_id"],
        chat_id=row["chat_id"],
        filename=row["filename"],
        size=row["size"],
        status=row["status"],
        created_at=from_db_time(row["created_at"]),
        expires_at=from_db_time(row["expires_at"]),
        bytes_relayed=row["bytes_relayed"],
        reason=row["reason"],
        relay_node=row["relay_node"],
    )


class SqlTransfers:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def create(self, transfer: Transfer) -> None:
        await self._db.write(
            lambda c: c.execute(
                "INSERT INTO transfers (id, sender_id, receiver_id, chat_id, filename, size,"
                " status, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    transfer.id,
                    transfer.sender_id,
                    transfer.receiver_id,
                    transfer.chat_id,
                    transfer.filename,
                    transfer.size,
                    transfer.status,
                    to_db_time(transfer.created_at),
                    to_db_time(transfer.expires_at),
                ),
            )
        )

    async def get(self, transfer_id: str) -> Transfer | None:
        row = await self._db.read(
            lambda c: c.execute("SELECT * FROM transfers WHERE id = ?", (transfer_id,)).fetchone()
        )
        return transfer_from_row(row) if row else None

    async def set_status(
        self, transfer_id: str, status: str, *, only_from: tuple[str, ...], reason: str = ""
    ) -> bool:
        marks = ",".join("?" * len(only_from))
        cursor = await self._db.write(
            lambda c: c.execute(
                f"UPDATE transfers SET status = ?, reason = ? WHERE id = ? AND status IN ({marks})",
                (status, reason, transfer_id, *only_from),
            )
        )
        return cursor.rowcount == 1

    async def activate(
        self, transfer_id: str, *, relay_node: str, only_from: tuple[str, ...]
    ) -> bool:
        marks = ",".join("?" * len(only_from))
        cursor = await self._db.write(
            lambda c: c.execute(
                "UPDATE transfers SET status = 'active', reason = '', relay_node = ?"
                f" WHERE id = ? AND status IN ({marks})",
                (relay_node, transfer_id, *only_from),
            )
        )
        return cursor.rowcount == 1

    async def set_progress(self, transfer_id: str, bytes_relayed: int) -> None:
        await self._db.write(
            lambda c: c.execute(
                "UPDATE transfers SET bytes_relayed = ? WHERE id = ?", (bytes_relayed, transfer_id)
            )
        )

    async def list_for_user(
        self, user_id: str, *, chat_id: str | None, open_only: bool, limit: int
    ) -> list[Transfer]:
        conditions = ["(sender_id = :user OR receiver_id = :user)"]
        if chat_id is not None:
            conditions.append("chat_id = :chat")
        if open_only:
            conditions.append("status IN ('offered', 'active')")
        where = " AND ".join(conditions)
        query = f"SELECT * FROM transfers WHERE {where} ORDER BY id DESC LIMIT :limit"
        parameters = {"user": user_id, "chat": chat_id, "limit": limit}
        rows = await self._db.read(lambda c: c.execute(query, parameters).fetchall())
        return [transfer_from_row(row) for row in rows]

    async def relay_nodes(self) -> set[str]:
        rows = await self._db.read(
            lambda c: c.execute(
                "SELECT DISTINCT relay_node FROM transfers"
                " WHERE status = 'active' AND relay_node IS NOT NULL"
            ).fetchall()
        )
        return {row[0] for row in rows}

    async def fail_relayed_by(self, relay_nodes: list[str], reason: str) -> int:
        marks = ",".join("?" * len(relay_nodes))
        cursor = await self._db.write(
            lambda c: c.execute(
                "UPDATE transfers SET status = 'failed', reason = ?"
                f" WHERE status = 'active' AND relay_node IN ({marks})",
                (reason, *relay_nodes),
            )
        )
        return int(cursor.rowcount)

    async def expire_offers(self, now: datetime) -> list[Transfer]:
        rows = await self._db.write(
            lambda c: c.execute(
                "UPDATE transfers SET status = 'expired', reason = 'offer expired'"
                " WHERE status = 'offered' AND expires_at < ? RETURNING *",
                (to_db_time(now),),
            ).fetchall()
        )
        return [transfer_from_row(row) for row in rows]
