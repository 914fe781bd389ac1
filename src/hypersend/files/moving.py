"""Moving every complete file from one file store to another (disk to bucket, or back), for
`hypersend move-files`.

Each chunk is copied on its own, checked against the digest recorded when it was uploaded
(so the file's content hash holds in its new place), and a file counts as moved only once the
target holds all of it. Files already in the target are skipped, so an interrupted run is
finished by running it again. The source keeps its copies: remove them once the server runs on
the target.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace

from hypersend.content_hash import content_hash
from hypersend.errors import Unprocessable
from hypersend.files.store import FileMissing, FileStore
from hypersend.storage.models import FileRecord


@dataclass
class MoveReport:
    moved: int = 0
    already_there: int = 0
    moved_bytes: int = 0
    damaged: list[str] = field(default_factory=list)  # "id (name): why"


Digests = Callable[[str], Awaitable[dict[int, bytes]]]
Progress = Callable[[FileRecord, str], None]


class DamagedFile(Exception):
    """A file's bytes in the source do not match what was recorded when it was uploaded."""


async def move_files(
    files: AsyncIterator[FileRecord],
    digests_of: Digests,
    source: FileStore,
    target: FileStore,
    progress: Progress,
) -> MoveReport:
    report = MoveReport()
    async for record in files:
        digests = await digests_of(record.id)
        if await target.holds_complete(record, digests):
            report.already_there += 1
            progress(record, "already there")
            continue
        try:
            await _copy(record, digests, source, target)
        except DamagedFile as exc:
            report.damaged.append(f"{record.id} ({record.filename}): {exc}")
            progress(record, f"NOT moved: {exc}")
            continue
        report.moved += 1
        report.moved_bytes += record.size
        progress(record, "moved")
    return report


async def _copy(
    record: FileRecord, digests: dict[int, bytes], source: FileStore, target: FileStore
) -> None:
    if (
        len(digests) != record.total_chunks
        or content_hash(digests[index] for index in range(record.total_chunks))
        != record.content_hash
    ):
        raise DamagedFile("its recorded chunk digests do not give its content hash")
    await target.remove(record)  # what an interrupted copy left
    placed = replace(record, store_upload_id=await target.begin(record))
    try:
        for index in range(record.total_chunks):
            first = index * record.chunk_size
            length = record.chunk_length(index)
            try:
                async with (
                    source.open_read(record, first, first + length - 1) as stream,
                    target.writing(placed) as sink,
                ):
                    digest = await sink.write_chunk(index, length, stream, expected=digests[index])
            except FileMissing as exc:
                raise DamagedFile("the source has no bytes for it") from exc
            except Unprocessable as exc:  # shorter than recorded, or refused by the target
                raise DamagedFile(f"chunk {index}: {exc.detail}") from exc
            if digest != digests[index]:
                raise DamagedFile(f"chunk {index} differs from the digest recorded at upload")
        await target.finish(placed, digests)
    except BaseException:
        await target.remove(placed)
        raise
