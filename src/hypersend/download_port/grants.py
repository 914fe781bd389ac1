"""What the API gives the download port: a signed grant to send one file's bytes.

The API checks who may read the file; the grant it signs names the file and carries what
the answer needs (name, type, size, content hash), so the download port reads no database
and keeps nothing between requests. Like a signed link, a grant works until it expires."""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from hypersend.http1 import plain_number
from hypersend.signatures import Signer
from hypersend.storage.models import FileRecord

GRANT_FIELDS = ("expires", "size", "hash", "type", "sig")


@dataclass(frozen=True)
class DownloadGrant:
    file_id: str
    filename: str
    mime: str
    size: int
    content_hash: str
    expires: int

    @classmethod
    def of(cls, record: FileRecord, expires: int) -> "DownloadGrant":
        return cls(
            record.id, record.filename, record.mime, record.size, record.content_hash or "", expires
        )

    def fields(self) -> tuple[str, str, str, int, str, int]:
        return self.file_id, self.filename, self.mime, self.size, self.content_hash, self.expires


class GrantSigner:
    def __init__(self, secret: str) -> None:
        self._signer = Signer(secret, b"download-port-grant")

    def path(self, grant: DownloadGrant) -> str:
        """The download port's path for `grant`: the file's name last, for the download
        managers that name what they save after the URL."""
        query = {
            "expires": grant.expires,
            "size": grant.size,
            "hash": grant.content_hash,
            "type": grant.mime,
            "sig": self._signer.sign(*grant.fields()),
        }
        name = quote(grant.filename, safe="")
        return f"/files/{quote(grant.file_id, safe='')}/{name}?{urlencode(query)}"

    def read(self, file_id: str, filename: str, query: Mapping[str, str]) -> DownloadGrant | None:
        """The grant that a path and its query carry, if this server signed it and it has
        not expired; None otherwise."""
        if set(query) != set(GRANT_FIELDS):
            return None
        expires, size = plain_number(query["expires"]), plain_number(query["size"])
        if expires is None or size is None:
            return None
        grant = DownloadGrant(file_id, filename, query["type"], size, query["hash"], expires)
        if grant.expires < time.time() or not self._signer.verifies(query["sig"], *grant.fields()):
            return None
        return grant
