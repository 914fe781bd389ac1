"""`hypersend move-files --to bucket|disk`: move every complete file's bytes between the disk
under `DATA_ROOT/files` and the bucket of the `S3_*` settings.

Each chunk is checked against the digest recorded at upload, so every file keeps its content
hash; files already in the target are skipped, so an interrupted run is finished by running it
again. The source keeps its copies. Then set (or unset) `S3_BUCKET` and restart the server.
Unfinished uploads stay behind: their uploaders start them again after the switch.
"""

import argparse
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from hypersend.config import Settings
from hypersend.errors import FileStoreUnavailable
from hypersend.files.moving import move_files
from hypersend.files.store import FileStore
from hypersend.files.stores import bucket_store, disk_store
from hypersend.humanize import human_bytes
from hypersend.storage import Storage, open_storage
from hypersend.storage.models import FileRecord

PAGE = 100


def register(commands: Any) -> None:
    move = commands.add_parser(
        "move-files",
        help="move the files' bytes between the disk and an S3 bucket (S3_* settings)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    move.add_argument(
        "--to", dest="target", choices=("bucket", "disk"), required=True, help="where to"
    )
    move.set_defaults(handler=run)


async def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if not settings.uses_bucket:
        return _fail("set S3_BUCKET (and the other S3_* settings) to the bucket to use")
    disk, bucket = disk_store(settings), bucket_store(settings)
    on_disk, in_bucket = str(settings.files_dir), f"the bucket {settings.s3_bucket}"
    source: FileStore
    target: FileStore
    if args.target == "bucket":
        source, target, direction = disk, bucket, f"from {on_disk} to {in_bucket}"
    else:
        source, target, direction = bucket, disk, f"from {in_bucket} to {on_disk}"
    storage = await open_storage(settings)
    try:
        await bucket.check()
        if args.target == "disk":
            settings.files_dir.mkdir(parents=True, exist_ok=True)
        print(f"Moving files {direction}")
        report = await move_files(
            _complete_files(storage), storage.files.chunk_digests, source, target, _line
        )
    except FileStoreUnavailable as exc:
        return _fail(f"cannot use the bucket: {exc.detail}")
    finally:
        await bucket.close()
        await storage.close()
    print(
        f"Done: {_files(report.moved)} moved ({human_bytes(report.moved_bytes)}),"
        f" {report.already_there} already there, each checked against its recorded digests."
    )
    if report.damaged:
        print(f"{_files(len(report.damaged))} could not be moved:", file=sys.stderr)
        for line in report.damaged:
            print(f"  {line}", file=sys.stderr)
        return 1
    setting = "set S3_BUCKET" if args.target == "bucket" else "unset S3_BUCKET"
    print(
        f"Now {setting} and restart the server; the source keeps its copies until you remove them."
    )
    return 0


async def _complete_files(storage: Storage) -> AsyncIterator[FileRecord]:
    after_id, end_of_time = "", datetime.max.replace(tzinfo=UTC)
    while page := await storage.files.completed_before(end_of_time, PAGE, after_id=after_id):
        for record in page:
            yield record
        after_id = page[-1].id


def _line(record: FileRecord, outcome: str) -> None:
    print(f"  {record.id}  {human_bytes(record.size):>10}  {outcome}  {record.filename}")


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def _fail(message: str) -> int:
    print(f"hypersend move-files: {message}", file=sys.stderr)
    return 1
