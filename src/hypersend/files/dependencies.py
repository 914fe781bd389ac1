"""What a chunk request carries, read the same way by every route that takes chunks (the API's
and the browser upload page's)."""

from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request

from hypersend.files.service import IncomingChunk
from hypersend.request_body import content_length

CHUNK_BODY_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
"""The raw body a chunk route takes, for its OpenAPI description (`openapi_extra`)."""


def incoming_chunk(
    request: Request,
    index: Annotated[int, Query(ge=0)],
    x_chunk_sha256: Annotated[str | None, Header()] = None,
) -> IncomingChunk:
    """The chunk's index, its body (not read yet), and what the client declares of it (its
    `Content-Length` is HTTP's, not a parameter of the API: read from the request itself)."""
    return IncomingChunk(
        index=index,
        body=request.stream(),
        declared_length=content_length(request.scope),
        expected_sha256=x_chunk_sha256,
    )


IncomingChunkDep = Annotated[IncomingChunk, Depends(incoming_chunk)]
