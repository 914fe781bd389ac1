import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status
from starlette.responses import FileResponse, RedirectResponse, StreamingResponse

from hypersend.auth.dependencies import CurrentPrincipal, CurrentUser, OptionalPrincipal
from hypersend.error_responses import NO_ROOM, RANGE_NOT_SATISFIABLE
from hypersend.errors import Unauthorized
from hypersend.files.dependencies import CHUNK_BODY_OPENAPI, IncomingChunkDep
from hypersend.files.disk import DiskStore
from hypersend.files.headers import MultipartRanges, file_headers
from hypersend.files.ranges import requested_spans
from hypersend.files.schemas import (
    ChunkAccepted,
    DownloadLink,
    FileInfo,
    StartUpload,
    UploadStarted,
)
from hypersend.files.service import FileService
from hypersend.files.thumbnails import THUMBNAIL_MIME
from hypersend.json_body import JsonRoute
from hypersend.services import ServicesDep
from hypersend.storage.models import FileRecord

router = APIRouter(prefix="/files", tags=["files"], route_class=JsonRoute)


class LargeFileResponse(FileResponse):
    """Starlette's file response with 1 MiB reads (64 KiB reads cost 5x the throughput).
    Whole files go out zero-copy through the ASGI pathsend extension under granian."""

    chunk_size = 1024 * 1024


@router.post("/upload/start", status_code=status.HTTP_201_CREATED, responses=NO_ROOM)
async def start_upload(
    body: StartUpload, request: Request, principal: CurrentPrincipal, services: ServicesDep
) -> UploadStarted:
    files = services.files
    record = await files.create_upload(
        principal.user,
        filename=body.filename,
        size=body.size,
        mime=body.mime,
        chat_id=body.chat_id,
    )
    base = str(request.base_url)
    upload_url = files.upload_url(record, principal.user, principal.session.id, base)
    return UploadStarted.of(record, upload_url)


@router.put("/upload/chunk/{file_id}", openapi_extra=CHUNK_BODY_OPENAPI, responses=NO_ROOM)
async def upload_chunk(
    file_id: str, chunk: IncomingChunkDep, user: CurrentUser, services: ServicesDep
) -> ChunkAccepted:
    """Raw chunk bytes as the body. Every chunk is `chunk_size` bytes except the last."""
    return ChunkAccepted.of(await services.files.receive_chunk(user, file_id, chunk))


@router.post("/upload/chunk/{file_id}", openapi_extra=CHUNK_BODY_OPENAPI, responses=NO_ROOM)
async def upload_chunk_by_post(
    file_id: str, chunk: IncomingChunkDep, user: CurrentUser, services: ServicesDep
) -> ChunkAccepted:
    """The same as `PUT`, for clients that can only POST."""
    return ChunkAccepted.of(await services.files.receive_chunk(user, file_id, chunk))


@router.get("/{file_id}/info")
async def file_info(
    file_id: str, request: Request, principal: CurrentPrincipal, services: ServicesDep
) -> FileInfo:
    """Progress of an upload: resume by sending `missing_chunks`."""
    files = services.files
    record = await files.visible(principal.user, file_id)
    base = str(request.base_url)
    upload_url = files.upload_url(record, principal.user, principal.session.id, base)
    return FileInfo.of(await files.progress(record), upload_url)


@router.get(
    "/{file_id}/thumbnail",
    response_class=Response,
    responses={200: {"content": {THUMBNAIL_MIME: {}}, "description": "A small preview"}},
)
async def thumbnail(file_id: str, user: CurrentUser, services: ServicesDep) -> Response:
    """A preview of an image (at most 320 pixels a side, no metadata), for whoever may
    download the file; 404 when it has none (not an image, or one that could not be read)."""
    preview = await services.files.thumbnail(user, file_id)
    return Response(
        preview.data,
        media_type=preview.mime,
        headers={"Cache-Control": "private, max-age=86400"},
    )


@router.get("/{file_id}/link")
async def download_link(
    file_id: str, request: Request, user: CurrentUser, services: ServicesDep
) -> DownloadLink:
    """A short-lived URL that downloads (with Range) without an Authorization header."""
    record = await services.files.downloadable(await services.files.visible(user, file_id))
    path, expires_at = services.files.sign_link(record)
    base = services.settings.public_base(str(request.base_url))
    return DownloadLink(url=f"{base}{path}", expires_at=expires_at)


@router.get(
    "/download/{file_id}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        206: {"description": "The requested range"},
        **RANGE_NOT_SATISFIABLE,
    },
)
async def download(
    file_id: str,
    request: Request,
    principal: OptionalPrincipal,
    services: ServicesDep,
    range_header: Annotated[str | None, Header(alias="range")] = None,
    if_range: Annotated[str | None, Header(alias="if-range")] = None,
    expires: Annotated[int | None, Query(ge=0, le=2**63)] = None,
    sig: Annotated[str | None, Query(max_length=128)] = None,
) -> Response:
    """The file's bytes, with Range and If-Range. Bearer token, or a signed link's query."""
    files = services.files
    if expires is not None and sig is not None:
        record = await files.by_link(file_id, expires, sig)
    elif principal is not None:
        record = await files.visible(principal.user, file_id)
    else:
        raise Unauthorized("Missing bearer token or signed link")
    await files.downloadable(record)
    spans = requested_spans(range_header, record.size) if range_header else None
    headers = file_headers(record.filename, record.content_hash or "")
    local = files.store.local_path(record.id)
    if local is not None:  # every check is done: nginx or the download port may send the bytes
        settings = services.settings
        if settings.accel_redirect_prefix:  # nginx sends them (and handles Range)
            location = settings.accel_redirect_prefix + DiskStore.relative_path(record.id)
            return Response(
                headers={**headers, "X-Accel-Redirect": location}, media_type=record.mime
            )
        if settings.download_port:
            base = settings.download_port_base(str(request.base_url))
            granted = base + files.grant_path(record, expires)
            return RedirectResponse(granted, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
        return LargeFileResponse(local, media_type=record.mime, headers=headers)
    if expires is not None:  # a signed link: the bucket may send the bytes itself
        seconds_left = max(1, expires - int(time.time()))
        url = files.store.presigned_url(record, seconds_left, headers["Content-Disposition"])
        if url is not None:
            return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    if if_range not in (None, headers["ETag"]):  # the file changed: all of it, not a part
        spans = None
    return await _streamed(files, record, spans, headers)


async def _streamed(
    files: FileService,
    record: FileRecord,
    spans: list[tuple[int, int]] | None,
    headers: dict[str, str],
) -> StreamingResponse:
    """The whole file, one span of it, or several as multipart/byteranges, from a store that
    is not this machine's disk, streamed at the pace the client reads. The first span is
    opened before the answer starts, so that a store that fails answers 503 in the API's
    shape; the others as their turn comes."""
    wanted = spans or [(0, record.size - 1)]
    stack = AsyncExitStack()
    opened = await stack.enter_async_context(files.open_read(record, *wanted[0]))

    async def span_bytes(index: int) -> AsyncIterator[bytes]:
        if index == 0:
            async with stack:
                async for piece in opened:
                    yield piece
        else:
            async with files.open_read(record, *wanted[index]) as stream:
                async for piece in stream:
                    yield piece

    headers = {**headers, "Accept-Ranges": "bytes"}
    if spans is None or len(spans) == 1:
        (first, last), body, media_type = wanted[0], span_bytes(0), record.mime
        headers["Content-Length"] = str(last + 1 - first)
        if spans is not None:
            headers["Content-Range"] = f"bytes {first}-{last}/{record.size}"
    else:
        multipart = MultipartRanges(spans, record.mime, record.size)
        headers["Content-Length"] = str(multipart.content_length)
        media_type = multipart.media_type

        async def framed() -> AsyncIterator[bytes]:
            for index, head in enumerate(multipart.heads):
                yield head
                async for piece in span_bytes(index):
                    yield piece
                yield b"\r\n"
            yield multipart.tail

        body = framed()
    status_code = status.HTTP_200_OK if spans is None else status.HTTP_206_PARTIAL_CONTENT
    return StreamingResponse(body, status_code=status_code, headers=headers, media_type=media_type)


@router.delete("/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_file(file_id: str, user: CurrentUser, services: ServicesDep) -> Response:
    await services.files.delete(user, file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
