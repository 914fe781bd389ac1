"""What a file's bytes go out with, whoever sends them (the API, nginx, the download port):
the same `ETag`, `Content-Disposition` and, for several ranges, the same multipart framing."""

import secrets
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import quote


def file_headers(filename: str, content_hash: str) -> dict[str, str]:
    """The headers of every answer that carries a complete file's bytes (or a part of them)."""
    return {
        "ETag": f'"{content_hash}"',
        "Cache-Control": "private",
        "Content-Disposition": content_disposition(filename),
    }


def content_disposition(filename: str) -> str:
    """RFC 6266: the UTF-8 name in `filename*`, and an ASCII `filename` beside it for the
    tools that read only that one (`curl -OJ`, older browsers)."""
    ascii_name = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    ascii_name = "".join("_" if ch in '"\\' or not ch.isprintable() else ch for ch in ascii_name)
    ascii_name = ascii_name.strip()
    if not ascii_name or ascii_name.startswith("."):  # nothing left of the name but its type
        ascii_name = f"download{ascii_name}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


@dataclass(frozen=True)
class MultipartRanges:
    """Several spans of one file as `multipart/byteranges` (RFC 9110 §14.6): each span's
    bytes go between its `head` and a CRLF, and `tail` ends the body."""

    spans: list[tuple[int, int]]
    mime: str
    size: int
    boundary: str = field(default_factory=lambda: secrets.token_hex(16))

    @property
    def media_type(self) -> str:
        return f"multipart/byteranges; boundary={self.boundary}"

    @property
    def heads(self) -> list[bytes]:
        return [
            f"--{self.boundary}\r\nContent-Type: {self.mime}\r\n"
            f"Content-Range: bytes {first}-{last}/{self.size}\r\n\r\n".encode()
            for first, last in self.spans
        ]

    @property
    def tail(self) -> bytes:
        return f"--{self.boundary}--".encode()  # as Starlette ends the disk store's

    @property
    def content_length(self) -> int:
        framed = (
            len(head) + last + 1 - first + 2
            for head, (first, last) in zip(self.heads, self.spans, strict=True)
        )
        return sum(framed) + len(self.tail)
