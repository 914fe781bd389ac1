"""The file content hash: SHA-256 over the chunks' binary SHA-256 digests, in order.

It is the Dropbox content-hash scheme with block = chunk size, so a finished file of any size
is verified from its chunk digests without being read again. Server and client share it.
"""

import hashlib
from collections.abc import Iterable


def content_hash(chunk_digests: Iterable[bytes]) -> str:
    overall = hashlib.sha256()
    for digest in chunk_digests:
        overall.update(digest)
    return overall.hexdigest()


class ContentHasher:
    """Builds the content hash from a byte stream cut into pieces of any size."""

    def __init__(self, chunk_size: int) -> None:
        self._chunk_size = chunk_size
        self._digests: list[bytes] = []
        self._current = hashlib.sha256()
        self._filled = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        view = memoryview(data)
        while view:
            take = min(len(view), self._chunk_size - self._filled)
            self._current.update(view[:take])
            self._filled += take
            view = view[take:]
            if self._filled == self._chunk_size:
                self._digests.append(self._current.digest())
                self._current = hashlib.sha256()
                self._filled = 0

    def hexdigest(self) -> str:
        tail = [self._current.digest()] if self._filled else []
        return content_hash([*self._digests, *tail])
