"""The tus 1.0 routes (`/files/tus/`): headers in and out; the work is `TusService`'s."""

from collections.abc import AsyncIterator, Callable, Coroutine
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.routing import APIRoute
from starlette.requests import ClientDisconnect

from hypersend.auth.dependencies import CurrentUser
from hypersend.error_responses import NO_ROOM, api_error_response
from hypersend.errors import ApiError, BadRequest
from hypersend.files.tus.protocol import (
    CHECKSUM_ALGORITHMS,
    EXTENSIONS,
    MAX_METADATA_CHARS,
    UPLOAD_CONTENT_TYPE,
    VERSION,
    LengthRequired,
    UnsupportedMediaType,
    check_version,
    parse_checksum,
)
from hypersend.files.tus.service import TusUpload
from hypersend.request_body import content_length
from hypersend.services import ServicesDep

PREFIX = "/files/tus"
EXPOSED_HEADERS = (
    "Location",
    "Tus-Resumable",
    "Tus-Version",
    "Tus-Extension",
    "Tus-Max-Size",
    "Tus-Checksum-Algorithm",
    "Upload-Offset",
    "Upload-Length",
    "Upload-Metadata",
    "Upload-Expires",
)
"""What a browser page on another origin must be allowed to read of the answers (CORS)."""

_NUMBER = {"type": "string", "pattern": "^[0-9]{1,18}$"}
_CHECKSUM = (  # each algorithm's digest, in Base64
    "^(sha1 [A-Za-z0-9+/]{27}=|sha256 [A-Za-z0-9+/]{43}="
    "|sha512 [A-Za-z0-9+/]{86}==|md5 [A-Za-z0-9+/]{22}==)$"
)
_METADATA_PAIR = "[A-Za-z0-9_.-]+( [A-Za-z0-9+/]*={0,2})?"
_HEADERS: dict[str, dict[str, Any]] = {
    "Tus-Resumable": {"required": True, "schema": {"type": "string", "enum": [VERSION]}},
    "Upload-Length": {"required": True, "schema": _NUMBER},
    "Upload-Offset": {"required": True, "schema": _NUMBER},
    "Upload-Metadata": {
        "schema": {
            "type": "string",
            "maxLength": MAX_METADATA_CHARS,
            "pattern": f"^{_METADATA_PAIR}(,{_METADATA_PAIR})*$",
        },
        "description": "`filename`, `filetype`, `chat_id` (posted there once complete), in Base64",
    },
    "Upload-Checksum": {"schema": {"type": "string", "pattern": _CHECKSUM}},
}


def _documented(*headers: str, body: bool = False) -> dict[str, Any]:
    """The OpenAPI description of a tus route's headers (read from the request itself: the
    protocol's own statuses, such as 412 for a missing `Tus-Resumable`, are not FastAPI's 422)
    and of its raw body."""
    extra: dict[str, Any] = {
        "parameters": [{"name": name, "in": "header", **_HEADERS[name]} for name in headers]
    }
    if body:
        extra["requestBody"] = {
            "content": {UPLOAD_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}}
        }
    return extra


TUS_ERRORS: dict[int | str, dict[str, Any]] = {
    **NO_ROOM,
    410: {"description": "The upload expired"},
    411: {"description": "A PATCH without Content-Length"},
    412: {"description": "Tus-Resumable is missing or not 1.0.0"},
    415: {"description": f"A body that is not {UPLOAD_CONTENT_TYPE}"},
    423: {"description": "Another PATCH of this upload is in progress"},
    460: {"description": "The body does not match its Upload-Checksum: none of it was kept"},
}


class TusRoute(APIRoute):
    """A tus route: every answer, errors too, carries `Tus-Resumable` (the protocol asks it
    of all but OPTIONS, and clients check it)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def tus_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except ApiError as exc:
                response = api_error_response(exc)
            response.headers["Tus-Resumable"] = VERSION
            return response

        return tus_handler


router = APIRouter(prefix=PREFIX, tags=["tus"], route_class=TusRoute)


@router.options("/", status_code=status.HTTP_204_NO_CONTENT)
@router.options("/{file_id}", status_code=status.HTTP_204_NO_CONTENT, include_in_schema=False)
async def capabilities(services: ServicesDep) -> Response:
    """What this server's tus speaks (no sign-in needed)."""
    return Response(
        status_code=status.HTTP_204_NO_CONTENT,
        headers={
            "Tus-Version": VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(services.settings.max_file_size),
            "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
        },
    )


@router.post(
    "/",
    status_code=status.HTTP_201_CREATED,
    response_class=Response,
    responses=TUS_ERRORS,
    openapi_extra=_documented(
        "Tus-Resumable", "Upload-Length", "Upload-Metadata", "Upload-Checksum", body=True
    ),
)
async def create_upload(request: Request, user: CurrentUser, services: ServicesDep) -> Response:
    """Creation (`Upload-Length`, `Upload-Metadata` with `filename`, `filetype`, `chat_id`),
    with the first bytes in the body if the client likes (creation-with-upload)."""
    headers = request.headers
    check_version(headers.get("tus-resumable"))
    upload_length = headers.get("upload-length")
    if upload_length is None:
        raise BadRequest(
            "Upload-Length is required (Upload-Defer-Length is not supported)",
            code="upload_length_required",
        )
    length = _number(upload_length, "Upload-Length")
    tus = services.tus
    upload = await tus.create(user, length=length, metadata=headers.get("upload-metadata"))
    declared = content_length(request.scope) or 0
    if declared:
        _check_content_type(request)
        try:
            upload = await tus.append(
                user,
                upload.record.id,
                offset=0,
                length=declared,
                body=_body(request),
                checksum=parse_checksum(headers.get("upload-checksum")),
            )
        except ApiError:  # created all the same: the offset says what was kept, resume there
            upload = await tus.status(user, upload.record.id)
    base = services.settings.public_base(str(request.base_url))
    return Response(
        status_code=status.HTTP_201_CREATED,
        headers={
            "Location": f"{base}{PREFIX}/{upload.record.id}",
            **_progress(upload),
        },
    )


@router.head(
    "/{file_id}",
    response_class=Response,
    responses=TUS_ERRORS,
    openapi_extra=_documented("Tus-Resumable"),
)
async def upload_status(
    file_id: str, request: Request, user: CurrentUser, services: ServicesDep
) -> Response:
    """Where the upload stands: `Upload-Offset` is where to resume."""
    check_version(request.headers.get("tus-resumable"))
    upload = await services.tus.status(user, file_id)
    headers = {
        "Upload-Length": str(upload.record.size),
        "Cache-Control": "no-store",
        **_progress(upload),
    }
    if upload.record.tus_metadata:
        headers["Upload-Metadata"] = upload.record.tus_metadata
    return Response(status_code=status.HTTP_200_OK, headers=headers)


@router.patch(
    "/{file_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=TUS_ERRORS,
    openapi_extra=_documented("Tus-Resumable", "Upload-Offset", "Upload-Checksum", body=True),
)
async def append(
    file_id: str, request: Request, user: CurrentUser, services: ServicesDep
) -> Response:
    """The next bytes of the upload, at `Upload-Offset` (which must be where it stands)."""
    headers = request.headers
    check_version(headers.get("tus-resumable"))
    _check_content_type(request)
    upload_offset = headers.get("upload-offset")
    if upload_offset is None:
        raise BadRequest("Upload-Offset is required", code="upload_offset_required")
    offset = _number(upload_offset, "Upload-Offset")
    length = content_length(request.scope)
    if length is None:
        raise LengthRequired("A PATCH must declare its Content-Length")
    upload = await services.tus.append(
        user,
        file_id,
        offset=offset,
        length=length,
        body=_body(request),
        checksum=parse_checksum(headers.get("upload-checksum")),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT, headers=_progress(upload))


@router.delete(
    "/{file_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=TUS_ERRORS,
    openapi_extra=_documented("Tus-Resumable"),
)
async def terminate(
    file_id: str, request: Request, user: CurrentUser, services: ServicesDep
) -> Response:
    """Termination: the upload and its bytes are gone."""
    check_version(request.headers.get("tus-resumable"))
    await services.tus.terminate(user, file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _progress(upload: TusUpload) -> dict[str, str]:
    headers = {"Upload-Offset": str(upload.offset)}
    expires_at = upload.record.expires_at
    if upload.record.status == "uploading" and expires_at is not None:
        headers["Upload-Expires"] = format_datetime(expires_at, usegmt=True)
    return headers


def _number(header: str, name: str) -> int:
    if not header.isdigit() or len(header) > 18:
        raise BadRequest(f"{name} must be a number of bytes", code="bad_header")
    return int(header)


def _check_content_type(request: Request) -> None:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != UPLOAD_CONTENT_TYPE:
        raise UnsupportedMediaType


class BodyCut(BadRequest):
    code = "body_cut"


async def _body(request: Request) -> AsyncIterator[bytes]:
    """The request's body as it arrives; a client gone mid-way is a plain domain error."""
    try:
        async for piece in request.stream():
            if piece:
                yield piece
    except ClientDisconnect as exc:
        raise BodyCut("The connection closed before the body ended") from exc
