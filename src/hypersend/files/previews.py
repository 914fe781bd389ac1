"""Making and keeping the thumbnails of uploaded images.

An image's thumbnail is made by the process whose chunk completes the upload, before that
chunk is answered, so the message that posts the file already says `has_thumbnail`. A
process that stops in between leaves the file marked due (`thumbnail_due`), and the
housekeeping sweep (one process of the cluster at a time) makes what is due. Thumbnails live
in the database beside the file's record, small (a few KB) and the same for every process.

Each process makes one thumbnail at a time (`_making`): decoding is CPU and memory, and a
burst of image uploads must not take either from the transfers.
"""

import asyncio
import logging
import tempfile
from pathlib import Path

from hypersend.files.store import FileStore
from hypersend.files.thumbnails import THUMBNAIL_MIME, has_preview, make_thumbnail
from hypersend.storage import Storage
from hypersend.storage.models import FileRecord, Thumbnail

logger = logging.getLogger("hypersend.files")

SPOOL_BYTES = 1024 * 1024
"""An image read from a bucket stays in memory up to this, then goes to a temporary file."""

DUE_BATCH = 20

NO_THUMBNAIL = Thumbnail("", b"")


class Previews:
    def __init__(self, storage: Storage, store: FileStore) -> None:
        self._storage = storage
        self._store = store
        self._making = asyncio.Semaphore(1)

    async def make(self, record: FileRecord) -> None:
        """Make and keep the thumbnail of a complete file that is due one. Never raises: a
        store that cannot be read now leaves it due for the sweep."""
        try:
            data = await self._made(record) if has_preview(record.mime, record.size) else None
        except Exception:
            logger.exception("Thumbnail of %s not made; the sweep tries again", record.id)
            return
        thumbnail = Thumbnail(THUMBNAIL_MIME, data) if data else NO_THUMBNAIL
        await self._storage.files.put_thumbnail(record.id, thumbnail)

    async def make_due(self) -> int:
        """Make up to `DUE_BATCH` of the thumbnails still due (their upload's process stopped
        first, or their store could not be read then); the next sweep takes the next ones."""
        due = await self._storage.files.due_thumbnails(DUE_BATCH)
        for record in due:
            await self.make(record)
        return len(due)

    async def _made(self, record: FileRecord) -> bytes | None:
        async with self._making:
            path = self._store.local_path(record.id)
            if path is not None:
                return await asyncio.to_thread(_thumbnail_of_path, path)
            with tempfile.SpooledTemporaryFile(SPOOL_BYTES) as copy:
                async with self._store.open_read(record, 0, record.size - 1) as pieces:
                    async for piece in pieces:
                        await asyncio.to_thread(copy.write, piece)
                copy.seek(0)
                return await asyncio.to_thread(make_thumbnail, copy)


def _thumbnail_of_path(path: Path) -> bytes | None:
    with path.open("rb") as image:
        return make_thumbnail(image)
