"""What tus 1.0 headers carry, and the protocol's own refusals (plain domain errors)."""

import base64
import binascii
import hashlib
from dataclasses import dataclass

from hypersend.errors import ApiError, BadRequest, Unprocessable

VERSION = "1.0.0"
EXTENSIONS = "creation,creation-with-upload,termination,expiration,checksum"
CHECKSUM_ALGORITHMS = ("sha1", "sha256", "sha512", "md5")
UPLOAD_CONTENT_TYPE = "application/offset+octet-stream"
MAX_METADATA_CHARS = 4096


class UnsupportedVersion(ApiError):
    status, code = 412, "tus_version_unsupported"

    def __init__(self) -> None:
        super().__init__(
            f"This server speaks tus {VERSION}: send Tus-Resumable: {VERSION}",
            headers={"Tus-Version": VERSION},
        )


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"

    def __init__(self) -> None:
        super().__init__(f"An upload's bytes must be sent as Content-Type: {UPLOAD_CONTENT_TYPE}")


class LengthRequired(ApiError):
    status, code = 411, "length_required"


class ChecksumMismatch(ApiError):
    status, code = 460, "checksum_mismatch"

    def __init__(self) -> None:
        super().__init__("The bytes do not match their Upload-Checksum; none of them were kept")


@dataclass(frozen=True, slots=True)
class Checksum:
    algorithm: str
    digest: bytes

    def hasher(self) -> "hashlib._Hash":
        return hashlib.new(self.algorithm)


def check_version(header: str | None) -> None:
    if header != VERSION:
        raise UnsupportedVersion


def parse_metadata(header: str | None) -> dict[str, str]:
    """`Upload-Metadata`: comma-separated pairs of a key and its Base64 value (or a key
    alone); values that are not UTF-8 text are refused, as no field here takes bytes."""
    if not header:
        return {}
    if len(header) > MAX_METADATA_CHARS:
        raise Unprocessable(
            f"Upload-Metadata is longer than {MAX_METADATA_CHARS} characters",
            code="bad_metadata",
        )
    pairs: dict[str, str] = {}
    for item in header.split(","):
        key, _, encoded = item.strip().partition(" ")
        if not key or not key.isascii() or key in pairs:
            raise Unprocessable(f"Upload-Metadata has a bad key: {key!r}", code="bad_metadata")
        try:
            pairs[key] = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise Unprocessable(
                f"Upload-Metadata's {key!r} is not Base64 of UTF-8 text", code="bad_metadata"
            ) from exc
    return pairs


def parse_checksum(header: str | None) -> Checksum | None:
    """`Upload-Checksum: <algorithm> <Base64 digest>`."""
    if header is None:
        return None
    algorithm, _, encoded = header.strip().partition(" ")
    if not encoded:
        raise Unprocessable(
            "Upload-Checksum must be an algorithm and a Base64 digest", code="bad_checksum"
        )
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise BadRequest(
            f"Upload-Checksum's algorithm must be one of {', '.join(CHECKSUM_ALGORITHMS)}",
            code="checksum_algorithm_unsupported",
        )
    try:
        digest = base64.b64decode(encoded.strip(), validate=True)
    except binascii.Error as exc:
        raise BadRequest("Upload-Checksum's digest is not Base64", code="bad_checksum") from exc
    if len(digest) != hashlib.new(algorithm).digest_size:
        raise BadRequest(
            f"Upload-Checksum's digest is not a {algorithm} digest", code="bad_checksum"
        )
    return Checksum(algorithm, digest)
