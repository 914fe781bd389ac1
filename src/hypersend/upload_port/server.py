"""The upload port's HTTP/1.1 listener: chunk PUTs (and POSTs) of granted uploads.

It speaks what a chunk needs: a request head with `Content-Length` (chunked transfer coding
is refused: 411), `Expect: 100-continue`, keep-alive, `X-Chunk-SHA256`, and answers in the
API's shape, the same `ChunkAccepted` or error that `PUT /files/upload/chunk/{id}` gives:
it calls the same `FileService.receive_chunk` as the API's route.

Bounds (`http1.Listener`): heads of at most `MAX_HEAD_BYTES` within `HEAD_TIMEOUT`; at most
`max_connections` connections per process; a body that stops for `STALL_TIMEOUT`, or comes
slower than 16 KiB/s, ends its connection; `RECEIVING_THREADS` chunks received at once
per process (more wait their turn). A refused chunk's body is read and dropped when it is
at most `DRAIN_LIMIT` bytes, so that the client hears why; a larger one ends the connection.
"""

import socket
from http import HTTPStatus
from urllib.parse import parse_qsl, unquote, urlsplit

from hypersend.auth.service import AuthService
from hypersend.errors import ApiError, NotFound, Unprocessable
from hypersend.files.progress import AcceptedChunk
from hypersend.files.schemas import ChunkAccepted
from hypersend.files.service import FileService, IncomingChunk
from hypersend.http1 import (
    Listener,
    MethodNotAllowed,
    Request,
    answerable,
    error_answer,
    json_answer,
    plain_number,
    send,
)
from hypersend.upload_port.body import SocketBody
from hypersend.upload_port.grants import GRANT_FIELDS, UploadGrant

MAX_CONNECTIONS = 1000
DRAIN_LIMIT = 16 * 1024 * 1024


class LengthRequired(ApiError):
    status, code = 411, "length_required"


class UploadPort(Listener):
    """Takes the chunks of uploads that grants of `files` (`FileService.upload_url`) name."""

    busy_message = "Too many uploads at once; try again soon"

    def __init__(
        self,
        auth: AuthService,
        files: FileService,
        *,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        super().__init__(max_connections=max_connections)
        self._auth = auth
        self._files = files

    async def answer(
        self, connection: socket.socket, request: Request, received: bytearray
    ) -> bool:
        try:
            if request.method not in ("PUT", "POST"):
                raise MethodNotAllowed("Chunks are PUT or POST", headers={"Allow": "PUT, POST"})
            length = _body_length(request)
        except ApiError as exc:  # where the body ends is unknown: hang up after saying why
            await send(connection, error_answer(exc, keep_alive=False))
            return False
        expects = request.headers.get("expect", "").lower() == "100-continue"
        body = SocketBody(connection, length, received, expects=expects)
        try:
            accepted = await self._receive(request, body)
        except (OSError, TimeoutError):
            raise  # the client left or stalled: nothing more to say
        except Exception as exc:
            error = answerable(exc, request, "The chunk could not be stored; send it again")
            keep_alive = request.keep_alive and await _drained(body)
            await send(connection, error_answer(error, keep_alive=keep_alive))
            return keep_alive
        answer = ChunkAccepted.of(accepted).model_dump()
        await send(connection, json_answer(HTTPStatus.OK, answer, keep_alive=request.keep_alive))
        return True

    async def _receive(self, request: Request, body: SocketBody) -> AcceptedChunk:
        grant, index = self._grant(request.target)
        principal = await self._auth.principal(grant.user_id, grant.session_id)
        chunk = IncomingChunk(
            index=index,
            body=body,
            declared_length=body.left,
            expected_sha256=request.headers.get("x-chunk-sha256"),
        )
        return await self._files.receive_chunk(principal.user, grant.file_id, chunk)

    def _grant(self, target: str) -> tuple[UploadGrant, int]:
        """The grant the request's target carries and the chunk's index; 404 for anything
        that is not a grant this server signed."""
        url = urlsplit(target)
        segments = url.path.split("/")
        if len(segments) == 5 and segments[:4] == ["", "files", "upload", "chunk"]:
            try:
                pairs = parse_qsl(url.query, max_num_fields=len(GRANT_FIELDS) + 1)
            except ValueError:
                pairs = []
            query = dict(pairs)
            if len(query) == len(pairs) and "index" in query:
                index = query.pop("index")
                grant = self._files.upload_grants.read(unquote(segments[4]), query)
                if grant is not None:
                    return grant, _index(index)
        raise NotFound("Upload not found, or not this link's")


def _body_length(request: Request) -> int:
    if "transfer-encoding" in request.headers:
        raise LengthRequired("Send a chunk with its Content-Length, not chunked")
    declared = request.headers.get("content-length")
    if declared is None:
        raise LengthRequired("A chunk needs its Content-Length")
    length = plain_number(declared)
    if length is None:
        raise Unprocessable("Content-Length must be a number of bytes", code="bad_length")
    return length


def _index(text: str) -> int:
    index = plain_number(text)
    if index is None:
        raise Unprocessable("index must be a chunk number from 0", code="bad_index")
    return index


async def _drained(body: SocketBody) -> bool:
    """Whether what is left of a refused chunk's body has been read (when it is small
    enough, and the client did not wait for leave to send it), so that the next request can
    follow on the connection."""
    if body.awaits_continue and body.left:
        return False
    if body.left > DRAIN_LIMIT:
        return False
    try:
        await body.drain()
    except (OSError, TimeoutError):
        return False
    return not body.left
