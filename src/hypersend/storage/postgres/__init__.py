"""The shared backend: one PostgreSQL database that many server processes use at once."""

from hypersend.storage.postgres.database import PostgresDatabase
from hypersend.storage.sql import SqlStorage


async def open_postgres_storage(url: str, *, pool_size: int) -> SqlStorage:
    db = PostgresDatabase(url, pool_size=pool_size)
    await db.open()
    return SqlStorage(db)
