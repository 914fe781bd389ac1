"""`hypersend migrate`: move a deployment from the embedded SQLite database to MongoDB.

Only the database moves: the files' bytes and the secret key stay under `DATA_ROOT`, which
the server keeps using with MongoDB. Stop the server, run this, set `MONGODB_URI`, restart.
"""

import argparse
import sys
from pathlib import Path
from typing import Any

from hypersend.config import Settings


def register(commands: Any) -> None:
    migrate = commands.add_parser(
        "migrate",
        help="copy the embedded SQLite database into MongoDB",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    migrate.add_argument(
        "--data-root", type=Path, help="the SQLite deployment's DATA_ROOT (default: DATA_ROOT)"
    )
    migrate.add_argument(
        "--to", dest="uri", help="MongoDB connection string (default: MONGODB_URI)"
    )
    migrate.add_argument("--database", help="database name (default: MONGODB_DATABASE)")
    migrate.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    settings = Settings()
    uri = args.uri or settings.mongodb_uri
    if not uri:
        return _fail("say where to copy to: --to mongodb://HOST:27017 (or set MONGODB_URI)")
    database = args.database or settings.mongodb_database
    data_root: Path = args.data_root or settings.data_root
    try:
        from pymongo.errors import PyMongoError

        from hypersend.storage.mongo import open_mongo_storage
        from hypersend.storage.mongo.importer import TargetNotEmpty, copy_snapshot, target_counts
    except ImportError:
        return _fail('the MongoDB driver is missing: pip install "hypersend[mongodb]"')
    from hypersend.storage.sqlite.snapshot import TABLES, SnapshotError, SqliteSnapshot

    try:
        snapshot = SqliteSnapshot.open(Settings(data_root=data_root).database_path)
    except SnapshotError as exc:
        return _fail(str(exc))
    try:
        expected = snapshot.counts()
        print(f"Copying {snapshot_summary(expected)} into MongoDB database {database!r}")
        storage = await open_mongo_storage(uri, database)
        try:
            await copy_snapshot(snapshot, storage.db, _ProgressLines())
            copied = await target_counts(storage.db, list(TABLES))
        finally:
            await storage.close()
    except TargetNotEmpty as exc:
        return _fail(str(exc))
    except PyMongoError as exc:
        return _fail(f"MongoDB: {exc}")
    finally:
        snapshot.close()
    print()
    missing = {table: n for table, n in expected.items() if copied[table] != n}
    if missing:
        details = ", ".join(f"{t}: {copied[t]} of {n}" for t, n in missing.items())
        return _fail(f"the copy does not match the source ({details}); run it again")
    print(
        f"Done: every record is in MongoDB. Keep DATA_ROOT={data_root} (the files' bytes and"
        f" the secret key stay there), set MONGODB_URI (and MONGODB_DATABASE={database})"
        " and start the server."
    )
    return 0


def snapshot_summary(counts: dict[str, int]) -> str:
    return (
        f"{counts['users']} accounts, {counts['chats']} chats, {counts['messages']} messages,"
        f" {counts['files']} files"
    )


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
