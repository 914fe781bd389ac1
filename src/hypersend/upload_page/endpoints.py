"""The browser upload page, for files too large for the web app's file picker.

The app asks for a link (`POST /files/upload-page`); it carries an upload ticket in its
fragment (never sent to servers or proxies' logs). The page slices the file in the browser
and sends it through the routes below with the ticket: constant browser memory, parallel,
resumable after a reload. When the last chunk is in, the file is posted in the ticket's chat.
The ticket opens these routes only, for that chat and while the session lasts.
"""

from dataclasses import dataclass
from datetime import datetime
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field

from hypersend.auth.dependencies import CurrentPrincipal
from hypersend.auth.principals import Principal
from hypersend.error_responses import NO_ROOM
from hypersend.errors import NotFound, Unauthorized
from hypersend.files.dependencies import CHUNK_BODY_OPENAPI, IncomingChunkDep
from hypersend.files.schemas import ChunkAccepted, FileInfo, StartUpload, UploadStarted
from hypersend.json_body import JsonRoute
from hypersend.services import ServicesDep
from hypersend.storage.models import FileRecord

router = APIRouter(tags=["upload page"], route_class=JsonRoute)

CHUNK_PREFIX = "/upload-page/chunk/"

PAGE = files("hypersend.upload_page").joinpath("page.html").read_text(encoding="utf-8")
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline';"
        " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

_ticket = HTTPBearer(auto_error=False, description="The ticket from an upload page link")


class UploadPageRequest(BaseModel):
    chat_id: str = Field(min_length=1, max_length=64)


class UploadPageLink(BaseModel):
    url: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Uploader:
    principal: Principal
    chat_id: str


async def get_uploader(
    services: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_ticket)],
) -> Uploader:
    if credentials is None:
        raise Unauthorized("Missing upload ticket")
    principal, chat_id = await services.auth.authenticate_ticket(credentials.credentials)
    return Uploader(principal, chat_id)


UploaderDep = Annotated[Uploader, Depends(get_uploader)]


@router.post("/files/upload-page", status_code=status.HTTP_201_CREATED)
async def open_upload_page(
    body: UploadPageRequest, principal: CurrentPrincipal, services: ServicesDep, request: Request
) -> UploadPageLink:
    """A link to the browser upload page that sends files into `chat_id`."""
    await services.chats.require_member(body.chat_id, principal.user.id)
    ticket, expires_at = services.auth.issue_upload_ticket(principal, body.chat_id)
    base = services.settings.public_base(str(request.base_url))
    return UploadPageLink(url=f"{base}/upload#{ticket}", expires_at=expires_at)


@router.get("/upload", response_class=HTMLResponse, include_in_schema=False)
async def upload_page() -> HTMLResponse:
    return HTMLResponse(PAGE, headers=PAGE_HEADERS)


@router.post("/upload-page/start", status_code=status.HTTP_201_CREATED, responses=NO_ROOM)
async def start(body: StartUpload, uploader: UploaderDep, services: ServicesDep) -> UploadStarted:
    record = await services.files.create_upload(
        uploader.principal.user,
        filename=body.filename,
        size=body.size,
        mime=body.mime,
        chat_id=uploader.chat_id,
    )
    return UploadStarted.of(record)


@router.get("/upload-page/files/{file_id}")
async def progress(file_id: str, uploader: UploaderDep, services: ServicesDep) -> FileInfo:
    """Where an upload stands: the page resumes by sending `missing_chunks`."""
    upload = await _ticket_upload(uploader, file_id, services)
    return FileInfo.of(await services.files.progress(upload))


@router.put(f"{CHUNK_PREFIX}{{file_id}}", openapi_extra=CHUNK_BODY_OPENAPI, responses=NO_ROOM)
async def chunk(
    file_id: str, incoming: IncomingChunkDep, uploader: UploaderDep, services: ServicesDep
) -> ChunkAccepted:
    await _ticket_upload(uploader, file_id, services)
    accepted = await services.files.receive_chunk(uploader.principal.user, file_id, incoming)
    if accepted.receipt.complete:  # post it once: a resent last chunk finds the same message
        await services.messages.send(
            uploader.principal.user,
            uploader.chat_id,
            text=None,
            file_id=file_id,
            client_id=f"upload-page-{file_id}",
        )
    return ChunkAccepted.of(accepted)


async def _ticket_upload(uploader: Uploader, file_id: str, services: ServicesDep) -> FileRecord:
    """The caller's upload into the ticket's chat; 404 for any other file."""
    record = await services.files.owned(uploader.principal.user, file_id)
    if record.chat_id != uploader.chat_id:
        raise NotFound("No such upload")
    return record
