"""`hypersend migrate`: copy a whole installation between any two stores: SQLite (a
`DATA_ROOT` folder or a `.db` file), PostgreSQL (`postgresql://...`) and MongoDB
(`mongodb://.../database`).

Only the database moves: the files' bytes and the secret key stay under `DATA_ROOT`, which
the server keeps using. Stop the server, run this, point the server at the new store
(`DATABASE_URL`, `MONGODB_URI`, or neither for SQLite), start it. The copy is checked
table by table; an interrupted one is finished by running the same command again.
"""

import argparse
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from hypersend.config import Settings
from hypersend.storage.copying import CopyError, CopySource, CopyTarget, copy_all
from hypersend.storage.drivers import OptionalStore, missing_driver
from hypersend.storage.errors import StorageUnavailable
from hypersend.urls import redacted


def register(commands: Any) -> None:
    migrate = commands.add_parser(
        "migrate",
        help="copy the whole installation into another store (SQLite, PostgreSQL, MongoDB)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    migrate.add_argument(
        "--from",
        dest="source",
        help="the store to copy (default: the configured one: DATABASE_URL, MONGODB_URI,"
        " else the SQLite database under DATA_ROOT)",
    )
    migrate.add_argument(
        "--data-root", type=Path, help="copy the SQLite database under this DATA_ROOT"
    )
    migrate.add_argument(
        "--to",
        dest="target",
        help="where to copy to: postgresql://..., mongodb://HOST/DATABASE, or a folder or"
        " .db file for SQLite",
    )
    migrate.add_argument(
        "--database", help="the MongoDB target's database (default: from --to, else hypersend)"
    )
    migrate.set_defaults(handler=run)


@dataclass(frozen=True)
class Store:
    """Where an installation's records live."""

    kind: Literal["sqlite"] | OptionalStore
    location: str  # a path, or a URL
    database: str = ""  # MongoDB's database name

    def __str__(self) -> str:
        if self.kind == "sqlite":
            return f"SQLite {self.location}"
        if self.kind == "mongodb":
            return f"MongoDB {redacted(self.location)} (database {self.database})"
        return f"PostgreSQL {redacted(self.location)}"

    def setting(self) -> str:
        """How to point the server at this store."""
        if self.kind == "postgresql":
            return "set DATABASE_URL to it"
        if self.kind == "mongodb":
            return f"set MONGODB_URI to it and MONGODB_DATABASE={self.database}"
        return "set neither DATABASE_URL nor MONGODB_URI, and DATA_ROOT to its folder"


def store_at(text: str, *, mongodb_database: str) -> Store:
    if text.startswith(("postgresql://", "postgres://")):
        return Store("postgresql", text)
    if text.startswith(("mongodb://", "mongodb+srv://")):
        return Store("mongodb", text, _mongodb_database(text) or mongodb_database)
    path = Path(text).expanduser()
    return Store("sqlite", str((path / "hypersend.db" if path.suffix != ".db" else path).resolve()))


def configured_store(settings: Settings) -> Store:
    if settings.uses_postgresql:
        return Store("postgresql", settings.database_url)
    if settings.uses_mongodb:
        return Store("mongodb", settings.mongodb_uri, settings.mongodb_database)
    return Store("sqlite", str(settings.database_path.resolve()))


async def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if not args.target:
        return _fail("say where to copy to: --to postgresql://... | mongodb://... | a folder")
    if args.source:
        source = store_at(args.source, mongodb_database=settings.mongodb_database)
    elif args.data_root:
        source = store_at(str(args.data_root), mongodb_database=settings.mongodb_database)
    else:
        source = configured_store(settings)
    target = store_at(args.target, mongodb_database=args.database or "hypersend")
    if args.database and target.kind == "mongodb":
        target = Store("mongodb", target.location, args.database)
    if source == target:
        return _fail(f"the source and the target are the same store ({source})")
    for store in (source, target):
        if store.kind != "sqlite" and (missing := missing_driver(store.kind)):
            return _fail(missing)
    try:
        async with _opened_source(source) as reading, _opened_target(target) as writing:
            print(f"Copying {source} into {target}")
            copied = await copy_all(reading, writing, _ProgressLines())
    except Exception as exc:
        if not _expected(exc):
            raise
        return _fail(str(exc))
    print()
    print(
        f"Done: {snapshot_summary(copied)} are in {target}, checked table by table. Keep"
        f" DATA_ROOT (the files' bytes and the secret key stay there), {target.setting()},"
        " and start the server."
    )
    return 0


def snapshot_summary(counts: dict[str, int]) -> str:
    return (
        f"{counts['users']} accounts, {counts['chats']} chats, {counts['messages']} messages,"
        f" {counts['files']} files"
    )


@asynccontextmanager
async def _opened_source(store: Store) -> AsyncIterator[CopySource]:
    async with AsyncExitStack() as stack:
        if store.kind == "mongodb":
            from hypersend.storage.mongo import open_mongo_storage
            from hypersend.storage.mongo.copy_source import MongoCopySource

            mongo = await open_mongo_storage(store.location, store.database)
            stack.push_async_callback(mongo.close)
            yield MongoCopySource(mongo.db)
            return
        if store.kind == "postgresql":
            from hypersend.storage.postgres.snapshot import open_postgres_snapshot

            snapshot = open_postgres_snapshot(store.location)
        else:
            from hypersend.storage.sqlite.snapshot import open_sqlite_snapshot

            snapshot = open_sqlite_snapshot(Path(store.location))
        stack.push_async_callback(snapshot.close)
        yield snapshot


@asynccontextmanager
async def _opened_target(store: Store) -> AsyncIterator[CopyTarget]:
    async with AsyncExitStack() as stack:
        if store.kind == "mongodb":
            from hypersend.storage.mongo import open_mongo_storage
            from hypersend.storage.mongo.copy_target import MongoCopyTarget

            mongo = await open_mongo_storage(store.location, store.database)
            stack.push_async_callback(mongo.close)
            yield MongoCopyTarget(mongo.db)
            return
        from hypersend.storage.sql.copy_target import SqlCopyTarget

        if store.kind == "postgresql":
            from hypersend.storage.postgres import open_postgres_storage

            sql = await open_postgres_storage(store.location, pool_size=2)
        else:
            from hypersend.storage.sqlite import open_sqlite_storage

            sql = await open_sqlite_storage(Path(store.location), durable=True)
        stack.push_async_callback(sql.close)
        yield SqlCopyTarget(sql)


def _mongodb_database(uri: str) -> str:
    from pymongo.uri_parser import parse_uri

    return str(parse_uri(uri).get("database") or "")


def _expected(exc: Exception) -> bool:
    """Failures to report in one line: the stores' own, not HyperSend's bugs."""
    from hypersend.storage.sql.snapshot import SnapshotError

    if isinstance(exc, CopyError | SnapshotError | StorageUnavailable | OSError):
        return True
    kinds = {type(exc).__module__.split(".")[0]}
    for cause in (exc.__cause__, exc.__context__):
        if cause is not None:
            kinds.add(type(cause).__module__.split(".")[0])
    return bool(kinds & {"pymongo", "psycopg", "sqlite3", "bson"})


class _ProgressLines:
    """One line per table, its count updated in place."""

    def __init__(self) -> None:
        self._table: str | None = None

    def __call__(self, table: str, copied: int) -> None:
        if self._table not in (None, table):
            print()
        self._table = table
        print(f"\r  {table:<13} {copied:>12,}", end="", flush=True)


def _fail(message: str) -> int:
    print(f"hypersend migrate: {message}", file=sys.stderr)
    return 1
