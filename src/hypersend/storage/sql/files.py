"""File records and their received chunks in SQL (SQLite and PostgreSQL alike)."""

from datetime import datetime

from hypersend.clock import utcnow
from hypersend.content_hash import content_hash
from hypersend.storage.models import ChunkReceipt, FileRecord, Thumbnail
from hypersend.storage.sql.columns import from_db_time, to_db_time
from hypersend.storage.sql.database import Row, SqlConnection, SqlDatabase


def _optional_time(text: str | None) -> datetime | None:
    return from_db_time(text) if text else None


def file_from_row(row: Row) -> FileRecord:
    return FileRecord(
        id=row["id"],
        owner_id=row["owner_id"],
        chat_id=row["chat_id"],
        filename=row["filename"],
        size=row["size"],
        mime=row["mime"],
        chunk_size=row["chunk_size"],
        total_chunks=row["total_chunks"],
        status=row["status"],
        created_at=from_db_time(row["created_at"]),
        expires_at=_optional_time(row["expires_at"]),
        content_hash=row["content_hash"],
        completed_at=_optional_time(row["completed_at"]),
        store_upload_id=row["store_upload_id"],
        tus_metadata=row["tus_metadata"],
        staged_chunk=row["staged_chunk"],
        staged_bytes=row["staged_bytes"],
        thumbnail_due=bool(row["thumbnail_due"]),
    )


class SqlFiles:
    def __init__(self, db: SqlDatabase) -> None:
        self._db = db

    async def create(self, record: FileRecord) -> None:
        await self._db.write(
            lambda c: c.execute(
                "INSERT INTO files (id, owner_id, chat_id, filename, size, mime, chunk_size,"
                " total_chunks, status, created_at, expires_at, store_upload_id, tus_metadata,"
                " thumbnail_due) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    record.id,
                    record.owner_id,
                    record.chat_id,
                    record.filename,
                    record.size,
                    record.mime,
                    record.chunk_size,
                    record.total_chunks,
                    record.status,
                    to_db_time(record.created_at),
                    to_db_time(record.expires_at) if record.expires_at else None,
                    record.store_upload_id,
                    record.tus_metadata,
                    int(record.thumbnail_due),
                ),
            )
        )

    async def get(self, file_id: str) -> FileRecord | None:
        row = await self._db.read(
            lambda c: c.execute("SELECT * FROM files WHERE id = ?", (file_id,)).fetchone()
        )
        return file_from_row(row) if row else None

    async def chunk_digests(self, file_id: str) -> dict[int, bytes]:
        rows = await self._db.read(
            lambda c: c.execute(
                "SELECT idx, sha256 FROM file_chunks WHERE file_id = ?", (file_id,)
            ).fetchall()
        )
        return {row[0]: bytes(row[1]) for row in rows}

    async def chunk_count(self, file_id: str) -> int:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT count(*) FROM file_chunks WHERE file_id = ?", (file_id,)
            ).fetchone()
        )
        return int(row[0])

    async def chunk_digest(self, file_id: str, index: int) -> bytes | None:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT sha256 FROM file_chunks WHERE file_id = ? AND idx = ?", (file_id, index)
            ).fetchone()
        )
        return bytes(row[0]) if row else None

    async def record_chunk(
        self, file_id: str, index: int, digest: bytes, *, expires_at: datetime
    ) -> ChunkReceipt:
        def record(c: SqlConnection) -> ChunkReceipt:
            # First the file's row, which stays locked until the commit: chunks of one file
            # recorded at once by several processes take turns, so the count below sees
            # every chunk committed before and exactly one of them completes the file.
            c.execute(
                "UPDATE files SET expires_at = ? WHERE id = ? AND status = 'uploading'",
                (to_db_time(expires_at), file_id),
            )
            c.execute(
                "INSERT INTO file_chunks (file_id, idx, sha256) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (file_id, index, digest),
            )
            total, status = c.execute(
                "SELECT total_chunks, status FROM files WHERE id = ?", (file_id,)
            ).fetchone()
            (received,) = c.execute(
                "SELECT count(*) FROM file_chunks WHERE file_id = ?", (file_id,)
            ).fetchone()
            if status == "complete":
                return ChunkReceipt(received, True)
            if received < total:
                return ChunkReceipt(received, False)
            digests = c.execute(
                "SELECT sha256 FROM file_chunks WHERE file_id = ? ORDER BY idx", (file_id,)
            )
            c.execute(
                "UPDATE files SET status = 'complete', content_hash = ?, completed_at = ?,"
                " expires_at = NULL WHERE id = ?",
                (
                    content_hash(bytes(row[0]) for row in digests),
                    to_db_time(utcnow()),
                    file_id,
                ),
            )
            return ChunkReceipt(received, True)

        return await self._db.write(record)

    async def set_staged(
        self, file_id: str, index: int, length: int, *, expires_at: datetime
    ) -> None:
        await self._db.write(
            lambda c: c.execute(
                "UPDATE files SET staged_chunk = ?, staged_bytes = ?, expires_at = ?"
                " WHERE id = ? AND status = 'uploading'",
                (index, length, to_db_time(expires_at), file_id),
            )
        )

    async def put_thumbnail(self, file_id: str, thumbnail: Thumbnail) -> None:
        def put(c: SqlConnection) -> None:
            c.execute(
                "INSERT INTO thumbnails (file_id, mime, data)"
                " SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM files WHERE id = ?)"
                " ON CONFLICT (file_id) DO NOTHING",
                (file_id, thumbnail.mime, thumbnail.data, file_id),
            )
            c.execute("UPDATE files SET thumbnail_due = 0 WHERE id = ?", (file_id,))

        await self._db.write(put)

    async def thumbnail(self, file_id: str) -> Thumbnail | None:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT mime, data FROM thumbnails WHERE file_id = ?", (file_id,)
            ).fetchone()
        )
        return Thumbnail(row[0], bytes(row[1])) if row else None

    async def due_thumbnails(self, limit: int) -> list[FileRecord]:
        rows = await self._db.read(
            lambda c: c.execute(
                "SELECT * FROM files WHERE thumbnail_due = 1 AND status = 'complete'"
                " ORDER BY id LIMIT ?",
                (limit,),
            ).fetchall()
        )
        return [file_from_row(row) for row in rows]

    async def delete(self, file_id: str) -> bool:
        cursor = await self._db.write(
            lambda c: c.execute("DELETE FROM files WHERE id = ?", (file_id,))
        )
        return cursor.rowcount == 1

    async def bytes_used(self, owner_id: str) -> int:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT coalesce(sum(size), 0) FROM files WHERE owner_id = ?", (owner_id,)
            ).fetchone()
        )
        return int(row[0])

    async def bytes_uploading(self, owner_id: str) -> int:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT coalesce(sum(size), 0) FROM files"
                " WHERE owner_id = ? AND status = 'uploading'",
                (owner_id,),
            ).fetchone()
        )
        return int(row[0])

    async def bytes_used_by(self, owner_ids: list[str]) -> dict[str, int]:
        if not owner_ids:
            return {}
        marks = ",".join("?" * len(owner_ids))
        rows = await self._db.read(
            lambda c: c.execute(
                f"SELECT owner_id, sum(size) FROM files WHERE owner_id IN ({marks})"
                " GROUP BY owner_id",
                owner_ids,
            ).fetchall()
        )
        return {row[0]: int(row[1]) for row in rows}

    async def visible_to(self, file_id: str, user_id: str) -> bool:
        row = await self._db.read(
            lambda c: c.execute(
                "SELECT EXISTS (SELECT 1 FROM files WHERE id = :file AND owner_id = :user)"
                " OR EXISTS (SELECT 1 FROM files f JOIN chat_members cm ON cm.chat_id = f.chat_id"
                "   WHERE f.id = :file AND cm.user_id = :user)"
                " OR EXISTS (SELECT 1 FROM messages m JOIN chat_members cm"
                "   ON cm.chat_id = m.chat_id WHERE m.file_id = :file AND cm.user_id = :user)",
                {"file": file_id, "user": user_id},
            ).fetchone()
        )
        return bool(row[0])

    async def unfinished_expiring_before(
        self, cutoff: datetime, limit: int, *, after_id: str = ""
    ) -> list[FileRecord]:
        rows = await self._db.read(
            lambda c: c.execute(
                "SELECT * FROM files WHERE status = 'uploading' AND expires_at < ? AND id > ?"
                " ORDER BY id LIMIT ?",
                (to_db_time(cutoff), after_id, limit),
            ).fetchall()
        )
        return [file_from_row(row) for row in rows]

    async def completed_before(
        self, cutoff: datetime, limit: int, *, after_id: str = ""
    ) -> list[FileRecord]:
        rows = await self._db.read(
            lambda c: c.execute(
                "SELECT * FROM files WHERE status = 'complete' AND completed_at < ? AND id > ?"
                " ORDER BY id LIMIT ?",
                (to_db_time(cutoff), after_id, limit),
            ).fetchall()
        )
        return [file_from_row(row) for row in rows]
