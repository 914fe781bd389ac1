"""The S3 calls HyperSend makes, over one pooled HTTP client (httpx), signed with SigV4.

Why our own few calls rather than an SDK: a chunk must stream from the request into its part
as it arrives, from any of several processes into one multipart upload, with its SHA-256 for
the store to check. obstore (Rust object_store) hides the multipart upload id, so parts of one
upload cannot come from different processes; aiobotocore reads a streamed body whole to sign
it over plain HTTP and brings aiohttp beside httpx. Nine calls over httpx do it in constant
memory (see bench/README.md for the figures against both).
"""

import base64
import xml.etree.ElementTree as ElementTree
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape

import httpx

from hypersend.clock import utcnow
from hypersend.files.s3.signing import UNSIGNED_PAYLOAD, Credentials, Signer, canonical_query

_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
TRAILER_PAYLOAD = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
_FRAME = 256 * 1024  # aws-chunked frame size of a part streamed with a checksum trailer


class S3Error(Exception):
    """The bucket answered with an error (`code` is S3's, e.g. `NoSuchUpload`)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"S3 {status} {code}: {message}")
        self.status = status
        self.code = code


class S3Unreachable(Exception):
    """The bucket could not be reached or did not answer in time."""


@dataclass(frozen=True, slots=True)
class Part:
    number: int
    etag: str
    sha256: bytes | None


@dataclass(frozen=True, slots=True)
class PendingUpload:
    key: str
    upload_id: str
    initiated: datetime


@dataclass(frozen=True, slots=True)
class Bucket:
    """Where the bucket is: its endpoint, name, region and addressing."""

    name: str
    endpoint_url: str
    region: str
    path_style: bool

    def base_url(self) -> str:
        if self.path_style:
            return f"{self.endpoint_url.rstrip('/')}/{self.name}"
        parts = urlsplit(self.endpoint_url)
        return f"{parts.scheme}://{self.name}.{parts.netloc}"

    def path(self, key: str) -> str:
        """The request path of `key` (what is signed)."""
        return f"/{self.name}/{key}" if self.path_style else f"/{key}"

    @property
    def host(self) -> str:
        return urlsplit(self.base_url()).netloc


class S3Client:
    def __init__(
        self,
        bucket: Bucket,
        credentials: Credentials,
        *,
        timeout: float = 60,
        connections: int = 64,
    ) -> None:
        self.bucket = bucket
        self._signer = Signer(credentials, bucket.region)
        parts = urlsplit(bucket.endpoint_url)
        self._origin = f"{parts.scheme}://{bucket.host}"
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=10),
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=16),
            trust_env=True,
        )

    async def close(self) -> None:
        await self._http.aclose()

    # -- requests ------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        key: str,
        *,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        payload: str = UNSIGNED_PAYLOAD,
        content: bytes | AsyncIterator[bytes] | None = None,
    ) -> httpx.Request:
        query = query or {}
        path = self.bucket.path(key)
        signed = self._signer.sign_headers(
            method=method,
            host=self.bucket.host,
            path=path,
            query=query,
            headers=headers or {},
            payload=payload,
            when=utcnow(),
        )
        return self._http.build_request(
            method, _url(self._origin, path, query), headers=signed, content=content
        )

    async def _send(
        self, request: httpx.Request, *, ok: tuple[int, ...] = (200,), stream: bool = False
    ) -> httpx.Response:
        """The answer, when its status is one of `ok`; else `S3Error` (or `S3Unreachable`).
        With `stream`, the body is still to be read (close the response)."""
        try:
            response = await self._http.send(request, stream=stream)
            if response.status_code not in ok:
                body = await response.aread()
                await response.aclose()
                raise _error(response.status_code, body)
        except httpx.TransportError as exc:
            raise S3Unreachable(f"The bucket did not answer: {exc!r}") from exc
        return response

    # -- the calls -----------------------------------------------------------------------

    async def head_bucket(self) -> None:
        await self._send(self._request("HEAD", ""))

    async def create_multipart_upload(self, key: str, content_type: str) -> str:
        answer = await self._send(
            self._request(
                "POST",
                key,
                query={"uploads": ""},
                headers={"content-type": content_type, "x-amz-checksum-algorithm": "SHA256"},
            )
        )
        return _text(_parse(answer.content), "UploadId")

    async def upload_part(
        self,
        key: str,
        upload_id: str,
        number: int,
        length: int,
        pieces: AsyncIterator[bytes],
        *,
        sha256: bytes | Callable[[], bytes],
    ) -> str:
        """Stream one part of `length` bytes with its SHA-256 for the bucket to check: in a
        header when it is known before the first byte, else (a function that gives it once
        `pieces` has ended) in an aws-chunked trailer. Returns the part's ETag."""
        query = {"partNumber": str(number), "uploadId": upload_id}
        return await self._put(key, query, length, pieces, sha256)

    async def put_object(
        self, key: str, length: int, pieces: AsyncIterator[bytes], *, sha256: Callable[[], bytes]
    ) -> None:
        """Stream an object of `length` bytes, checked by the bucket as `upload_part` is."""
        await self._put(key, {}, length, pieces, sha256)

    async def _put(
        self,
        key: str,
        query: dict[str, str],
        length: int,
        pieces: AsyncIterator[bytes],
        sha256: bytes | Callable[[], bytes],
    ) -> str:
        if isinstance(sha256, bytes):
            headers = {
                "content-length": str(length),
                "x-amz-checksum-sha256": base64.b64encode(sha256).decode(),
            }
            request = self._request("PUT", key, query=query, headers=headers, content=pieces)
        else:
            headers = {
                "content-length": str(_framed_length(length)),
                "content-encoding": "aws-chunked",
                "x-amz-decoded-content-length": str(length),
                "x-amz-trailer": "x-amz-checksum-sha256",
            }
            framed = _checksum_framed(pieces, sha256)
            request = self._request(
                "PUT", key, query=query, headers=headers, payload=TRAILER_PAYLOAD, content=framed
            )
        return (await self._send(request)).headers["etag"]

    async def list_parts(self, key: str, upload_id: str) -> list[Part]:
        parts: list[Part] = []
        marker = "0"
        while True:
            answer = await self._send(
                self._request(
                    "GET", key, query={"uploadId": upload_id, "part-number-marker": marker}
                )
            )
            root = _parse(answer.content)
            for element in root.iter(f"{_NS}Part"):
                checksum = _find(element, "ChecksumSHA256")
                parts.append(
                    Part(
                        number=int(_text(element, "PartNumber")),
                        etag=_text(element, "ETag"),
                        sha256=base64.b64decode(checksum) if checksum else None,
                    )
                )
            if _find(root, "IsTruncated") != "true":
                return parts
            marker = _text(root, "NextPartNumberMarker")

    async def complete_multipart_upload(self, key: str, upload_id: str, parts: list[Part]) -> None:
        items = "".join(
            f"<Part><PartNumber>{part.number}</PartNumber><ETag>{escape(part.etag)}</ETag>"
            + (
                f"<ChecksumSHA256>{base64.b64encode(part.sha256).decode()}</ChecksumSHA256>"
                if part.sha256
                else ""
            )
            + "</Part>"
            for part in parts
        )
        document = f"<CompleteMultipartUpload>{items}</CompleteMultipartUpload>".encode()
        answer = await self._send(
            self._request("POST", key, query={"uploadId": upload_id}, content=document)
        )
        # S3 may answer 200 and still have failed: the error is then in the body.
        root = _parse(answer.content)
        if root.tag == "Error" or root.tag.endswith("}Error"):
            raise _error(500, answer.content)

    async def abort_multipart_upload(self, key: str, upload_id: str) -> None:
        await self._send(
            self._request("DELETE", key, query={"uploadId": upload_id}), ok=(204, 200, 404)
        )

    async def list_multipart_uploads(self, prefix: str) -> AsyncIterator[PendingUpload]:
        key_marker, id_marker = "", ""
        while True:
            query = {"uploads": "", "prefix": prefix}
            if key_marker:
                query.update({"key-marker": key_marker, "upload-id-marker": id_marker})
            root = _parse((await self._send(self._request("GET", "", query=query))).content)
            for element in root.iter(f"{_NS}Upload"):
                yield PendingUpload(
                    key=_text(element, "Key"),
                    upload_id=_text(element, "UploadId"),
                    initiated=datetime.fromisoformat(
                        _text(element, "Initiated").replace("Z", "+00:00")
                    ),
                )
            if _find(root, "IsTruncated") != "true":
                return
            key_marker = _text(root, "NextKeyMarker")
            id_marker = _text(root, "NextUploadIdMarker")

    async def list_keys(self, prefix: str) -> AsyncIterator[str]:
        """The keys of the objects under `prefix` (ListObjectsV2, page by page)."""
        token = ""
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            root = _parse((await self._send(self._request("GET", "", query=query))).content)
            for element in root.iter(f"{_NS}Contents"):
                yield _text(element, "Key")
            if _find(root, "IsTruncated") != "true":
                return
            token = _text(root, "NextContinuationToken")

    async def delete_object(self, key: str) -> None:
        await self._send(self._request("DELETE", key), ok=(204, 200, 404))

    async def head_object(self, key: str) -> int | None:
        """The object's size, or None when there is no such object."""
        answer = await self._send(self._request("HEAD", key), ok=(200, 404))
        return int(answer.headers["content-length"]) if answer.status_code == 200 else None

    @asynccontextmanager
    async def get_object(
        self, key: str, first: int = 0, last: int | None = None
    ) -> AsyncIterator[httpx.Response]:
        """The object's bytes `first`..`last` (inclusive), as a streaming response."""
        headers = {}
        if first or last is not None:
            headers["range"] = f"bytes={first}-{'' if last is None else last}"
        response = await self._send(
            self._request("GET", key, headers=headers), ok=(200, 206), stream=True
        )
        try:
            yield response
        finally:
            await response.aclose()

    def presigned_get(self, key: str, *, expires_seconds: int, query: dict[str, str]) -> str:
        path = self.bucket.path(key)
        params = self._signer.presign(
            method="GET",
            host=self.bucket.host,
            path=path,
            query=query,
            expires_seconds=expires_seconds,
            when=utcnow(),
        )
        return _url(self._origin, path, params)


def _framed_length(length: int) -> int:
    """The size of `length` bytes framed by `_checksum_framed` (aws-chunked + trailer)."""
    full, rest = divmod(length, _FRAME)
    size = full * (len(f"{_FRAME:x}") + 4 + _FRAME)
    if rest:
        size += len(f"{rest:x}") + 4 + rest
    trailer = len("x-amz-checksum-sha256:") + 44 + 2
    return size + len("0\r\n") + trailer + 2


async def _checksum_framed(
    pieces: AsyncIterator[bytes], digest: Callable[[], bytes]
) -> AsyncIterator[bytes]:
    """`pieces` in aws-chunked frames of `_FRAME` bytes, then the digest as a trailer."""
    pending = bytearray()
    async for piece in pieces:
        pending += piece
        while len(pending) >= _FRAME:
            yield f"{_FRAME:x}\r\n".encode() + bytes(pending[:_FRAME]) + b"\r\n"
            del pending[:_FRAME]
    if pending:
        yield f"{len(pending):x}\r\n".encode() + bytes(pending) + b"\r\n"
    checksum = base64.b64encode(digest()).decode()
    yield f"0\r\nx-amz-checksum-sha256:{checksum}\r\n\r\n".encode()


def _url(origin: str, path: str, query: dict[str, str]) -> str:
    url = origin + quote(path, safe="-_.~/")
    if query:
        url += "?" + canonical_query(query)
    return url


def _parse(body: bytes) -> ElementTree.Element:
    """An answer of the bucket (the operator's own endpoint). ElementTree resolves no external
    entities and the bundled expat bounds entity expansion, so a hostile answer cannot read
    files or blow up memory."""
    return ElementTree.fromstring(body)  # noqa: S314


def _find(element: ElementTree.Element, name: str) -> str | None:
    """The text of `name` below `element`, in S3's namespace or in none (error documents)."""
    found = element.findtext(f"{_NS}{name}")
    return found if found is not None else element.findtext(name)


def _text(element: ElementTree.Element, name: str) -> str:
    found = _find(element, name)
    if found is None:
        raise S3Error(502, "MalformedResponse", f"The bucket's answer has no {name}")
    return found


def _error(status: int, body: bytes) -> S3Error:
    code, message = f"HTTP{status}", ""
    if body:
        try:
            root = _parse(body)
        except ElementTree.ParseError:
            message = body[:200].decode(errors="replace")
        else:
            code = _find(root, "Code") or code
            message = _find(root, "Message") or ""
    return S3Error(status, code, message)
