"""The download port's HTTP/1.1 listener: GET and HEAD of granted files, bytes by sendfile(2).

It speaks only what a download needs: a request head (no body), keep-alive, `Range` and
`If-Range` exactly as the API's download route reads them, and errors in the API's shape.

Bounds (`http1.Listener`): a request head of at most `MAX_HEAD_BYTES`, sent within
`HEAD_TIMEOUT`; a client that takes no byte for `STALL_TIMEOUT` is let go; at most
`max_connections` connections (more are answered 503 and closed). The bytes go by
`sendfile`, on threads of their own or from the event loop (`sending.py`).
"""

import asyncio
import logging
import os
import socket
from collections.abc import Iterator
from dataclasses import replace
from http import HTTPStatus
from pathlib import Path
from typing import BinaryIO
from urllib.parse import parse_qsl, unquote, urlsplit

from hypersend.download_port.grants import GRANT_FIELDS, DownloadGrant, GrantSigner
from hypersend.download_port.sending import SpanSender
from hypersend.errors import BadRequest, NotFound
from hypersend.files.disk import DiskStore
from hypersend.files.headers import MultipartRanges, file_headers
from hypersend.files.ranges import requested_spans
from hypersend.http1 import (
    Listener,
    MethodNotAllowed,
    Request,
    answerable,
    error_answer,
    response_head,
    send,
)

logger = logging.getLogger("hypersend.download_port")

MAX_CONNECTIONS = 1000


class DownloadPort(Listener):
    """Serves the files under `files_dir` that `signer`'s grants name."""

    busy_message = "Too many downloads at once; try again soon"

    def __init__(
        self, files_dir: Path, signer: GrantSigner, *, max_connections: int = MAX_CONNECTIONS
    ) -> None:
        super().__init__(max_connections=max_connections)
        self._files_dir = files_dir
        self._signer = signer
        self._spans = SpanSender()

    async def answer(
        self, connection: socket.socket, request: Request, received: bytearray
    ) -> bool:
        if request.headers.get("content-length", "0") != "0" or (
            "transfer-encoding" in request.headers
        ):  # a body would be read as the next request: hang up
            refused = BadRequest("A download takes no request body")
            await send(connection, error_answer(refused, keep_alive=False))
            return False
        try:
            await self._answer(connection, request)
        except (OSError, TimeoutError):
            raise  # the client left or stalled: nothing more to say
        except Exception as exc:
            error = answerable(exc, request, "The download failed; try again")
            if error is not exc:  # not after a failure of our own
                request = replace(request, keep_alive=False)
            answer = error_answer(error, keep_alive=request.keep_alive)
            if request.method == "HEAD":
                answer = answer[: answer.index(b"\r\n\r\n") + 4]
            await send(connection, answer)
            return request.keep_alive
        return True

    async def _answer(self, connection: socket.socket, request: Request) -> None:
        if request.method not in ("GET", "HEAD"):
            raise MethodNotAllowed("Downloads are GET or HEAD", headers={"Allow": "GET, HEAD"})
        grant = self._grant(request.target)
        path = self._files_dir / DiskStore.relative_path(grant.file_id)
        try:
            file = await asyncio.to_thread(open, path, "rb")
        except FileNotFoundError:
            raise NotFound("File not found") from None
        with file:
            if os.fstat(file.fileno()).st_size != grant.size:
                raise NotFound("File not found")
            head, body = _response(grant, request)
            await send(connection, head)
            if request.method != "GET":
                return
            try:
                await _send_body(connection, file, body, self._spans)
            except Exception as exc:  # the head is out: all that is left is to hang up
                if not isinstance(exc, OSError | TimeoutError):
                    logger.exception("The download port failed sending %s", grant.file_id)
                raise ConnectionAbortedError("The download was cut short") from exc

    def _grant(self, target: str) -> DownloadGrant:
        """The grant the request's target carries; 404 for anything else."""
        url = urlsplit(target)
        segments = url.path.split("/")
        if len(segments) == 4 and segments[:2] == ["", "files"]:
            try:
                pairs = parse_qsl(url.query, max_num_fields=len(GRANT_FIELDS))
            except ValueError:
                pairs = []
            query = dict(pairs)
            if len(query) == len(pairs):
                file_id, filename = unquote(segments[2]), unquote(segments[3])
                grant = self._signer.read(file_id, filename, query)
                if grant is not None:
                    return grant
        raise NotFound("File not found, or the link has expired")


BodyPart = bytes | tuple[int, int]  # bytes as they are, or (first, last) bytes of the file


def _response(grant: DownloadGrant, request: Request) -> tuple[bytes, list[BodyPart]]:
    """The answer's head and what its body is made of: the whole file, one span of it, or
    several as multipart/byteranges (as the API's download route answers)."""
    headers = {**file_headers(grant.filename, grant.content_hash), "Accept-Ranges": "bytes"}
    range_header = request.headers.get("range")
    spans = requested_spans(range_header, grant.size) if range_header else None
    if request.headers.get("if-range", headers["ETag"]) != headers["ETag"]:
        spans = None  # the file changed: all of it, not a part
    body: list[BodyPart]
    if spans is None:
        status, media_type, length = HTTPStatus.OK, grant.mime, grant.size
        body = [(0, grant.size - 1)] if grant.size else []
    elif len(spans) == 1:
        (first, last), media_type = spans[0], grant.mime
        status, length, body = HTTPStatus.PARTIAL_CONTENT, last + 1 - first, [spans[0]]
        headers["Content-Range"] = f"bytes {first}-{last}/{grant.size}"
    else:
        multipart = MultipartRanges(spans, grant.mime, grant.size)
        status, media_type = HTTPStatus.PARTIAL_CONTENT, multipart.media_type
        length, body = multipart.content_length, list(_framed(multipart))
    headers |= {"Content-Type": media_type, "Content-Length": str(length)}
    if not request.keep_alive:
        headers["Connection"] = "close"
    return response_head(status, headers), body


def _framed(multipart: MultipartRanges) -> Iterator[BodyPart]:
    for head, span in zip(multipart.heads, multipart.spans, strict=True):
        yield from (head, span, b"\r\n")
    yield multipart.tail


async def _send_body(
    connection: socket.socket, file: BinaryIO, body: list[BodyPart], spans: SpanSender
) -> None:
    for part in body:
        if isinstance(part, bytes):
            await send(connection, part)
        else:
            first, last = part
            await spans.send(connection, file.fileno(), first, last + 1 - first)
