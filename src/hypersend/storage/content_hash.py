"""The file content hash: SHA-256 over the chunks' binary SHA-256 digests, in order.

It is the Dropbox content-hash scheme with block = chunk size, so a finished file of any size
is verified from its chunk digests without being read again.
"""

import hashlib
from collections.abc import Iterable


def content_hash(chunk_digests: Iterable[bytes]) -> str:
    overall = hashlib.sha256()
    for digest in chunk_digests:
        overall.update(digest)
    return overall.hexdigest()
