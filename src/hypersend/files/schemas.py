import unicodedata
from datetime import datetime
from typing import Literal, Self

from pydantic import BaseModel, Field, field_validator

from hypersend.files.progress import AcceptedChunk, FileProgress
from hypersend.storage.models import FileRecord


def display_name(value: str) -> str:
    """A file name to show: no directories, no control characters, not blank."""
    name = value.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if not name or name in (".", ".."):
        raise ValueError("filename must not be empty")
    return name


# A media type (RFC 6838: type/subtype, optional parameters), in printable ASCII: it goes out
# as every download's Content-Type, so nothing else may be stored.
_NAME = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
MEDIA_TYPE = rf'^{_NAME}/{_NAME}(\s*;\s*{_NAME}=({_NAME}|"[ !#-\[\]-~]*"))*$'


class StartUpload(BaseModel):
    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(gt=0, description="Bytes; the server's maximum is 40 GiB unless configured")
    mime: str | None = Field(
        default=None, max_length=200, pattern=MEDIA_TYPE, description="e.g. image/png"
    )
    chat_id: str | None = Field(default=None, max_length=64)

    _filename = field_validator("filename")(display_name)


UPLOAD_URL = Field(
    default=None,
    description="With the server's upload port: where to PUT this upload's chunks instead"
    " (add `&index=<n>`; no Authorization header: the URL carries a grant for the caller's"
    " session). Null otherwise",
)


class UploadStarted(BaseModel):
    file_id: str
    chunk_size: int
    total_chunks: int
    expires_at: datetime
    upload_url: str | None = UPLOAD_URL

    @classmethod
    def of(cls, record: FileRecord, upload_url: str | None = None) -> Self:
        assert record.expires_at is not None  # an upload expires
        return cls(
            file_id=record.id,
            chunk_size=record.chunk_size,
            total_chunks=record.total_chunks,
            expires_at=record.expires_at,
            upload_url=upload_url,
        )


class ChunkAccepted(BaseModel):
    file_id: str
    index: int
    received_chunks: int
    total_chunks: int
    complete: bool

    @classmethod
    def of(cls, accepted: AcceptedChunk) -> Self:
        return cls(
            file_id=accepted.file.id,
            index=accepted.index,
            received_chunks=accepted.receipt.received_chunks,
            total_chunks=accepted.file.total_chunks,
            complete=accepted.receipt.complete,
        )


class FileInfo(BaseModel):
    file_id: str
    filename: str
    size: int
    mime: str
    chunk_size: int
    total_chunks: int
    status: Literal["uploading", "complete"]
    received_chunks: int
    missing_chunks: list[int]
    content_hash: str | None
    owner_id: str
    chat_id: str | None
    created_at: datetime
    expires_at: datetime | None
    has_thumbnail: bool = Field(description="GET /files/{file_id}/thumbnail has a preview")
    upload_url: str | None = UPLOAD_URL

    @classmethod
    def of(cls, progress: FileProgress, upload_url: str | None = None) -> Self:
        record = progress.file
        return cls(
            file_id=record.id,
            filename=record.filename,
            size=record.size,
            mime=record.mime,
            chunk_size=record.chunk_size,
            total_chunks=record.total_chunks,
            status="complete" if record.status == "complete" else "uploading",
            received_chunks=len(progress.received),
            missing_chunks=progress.missing,
            content_hash=record.content_hash,
            owner_id=record.owner_id,
            chat_id=record.chat_id,
            created_at=record.created_at,
            expires_at=record.expires_at,
            has_thumbnail=progress.has_thumbnail,
            upload_url=upload_url,
        )


class DownloadLink(BaseModel):
    url: str
    expires_at: datetime
