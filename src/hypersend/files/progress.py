"""Where an upload stands, as the file service answers it (the API's schemas are made from
these)."""

from dataclasses import dataclass

from hypersend.storage.models import ChunkReceipt, FileRecord


@dataclass(frozen=True, slots=True)
class AcceptedChunk:
    """A chunk that checked out and was recorded, and what its upload now holds."""

    file: FileRecord
    index: int
    receipt: ChunkReceipt


@dataclass(frozen=True, slots=True)
class FileProgress:
    """A file, the chunks of it received so far, and whether it has a preview."""

    file: FileRecord
    received: frozenset[int]
    has_thumbnail: bool

    @property
    def missing(self) -> list[int]:
        return [index for index in range(self.file.total_chunks) if index not in self.received]
