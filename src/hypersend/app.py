"""Builds the ASGI application: routers, error handling, middleware and lifespan."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline

from hypersend import __version__
from hypersend.admin.endpoints import router as admin_router
from hypersend.auth.endpoints import router as auth_router
from hypersend.body_limit import BodySizeLimit
from hypersend.chats.endpoints import router as chats_router
from hypersend.config import Settings
from hypersend.error_responses import ERROR_RESPONSES, install_error_handlers
from hypersend.files.endpoints import router as files_router
from hypersend.files.tus.endpoints import EXPOSED_HEADERS as TUS_HEADERS
from hypersend.files.tus.endpoints import PREFIX as TUS_PREFIX
from hypersend.files.tus.endpoints import router as tus_router
from hypersend.health import router as health_router
from hypersend.messages.endpoints import router as messages_router
from hypersend.realtime.endpoints import router as realtime_router
from hypersend.request_body import RequestBodyGuard
from hypersend.services import open_services
from hypersend.storage import open_storage
from hypersend.transfers.endpoints import router as transfers_router
from hypersend.upload_page.endpoints import CHUNK_PREFIX as PAGE_CHUNK_PREFIX
from hypersend.upload_page.endpoints import router as upload_page_router
from hypersend.upload_port.listening import start_upload_port
from hypersend.users.endpoints import router as users_router

ROUTERS = (
    health_router,
    auth_router,
    users_router,
    chats_router,
    messages_router,
    files_router,
    tus_router,
    upload_page_router,
    realtime_router,
    transfers_router,
    admin_router,
)

STREAMED_BODY_PREFIXES = ("/files/upload/chunk/", f"{TUS_PREFIX}/", PAGE_CHUNK_PREFIX)
# A refused body up to this size is read to its end, so that the client gets the answer
# rather than a reset: one chunk of the default size, or any JSON body, fits.
DRAIN_LIMIT = 16 * 1024 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if not settings.uses_bucket:
            settings.files_dir.mkdir(parents=True, exist_ok=True)
        storage = await open_storage(settings)
        try:
            services = await open_services(settings, storage)
        except BaseException:
            await storage.close()
            raise
        app.state.services = services
        background = await services.start()
        try:
            if settings.upload_port:
                upload_port = await start_upload_port(settings, services.auth, services.files)
                background.append(upload_port)
            yield
        finally:
            for task in background:
                task.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            await services.close()
            await storage.close()

    app = FastAPIOffline(  # Swagger UI at /docs from the package's own assets, not a CDN
        title="HyperSend",
        version=__version__,
        summary="Self-hosted chat and very large file transfer.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router, responses=ERROR_RESPONSES)
    app.add_middleware(
        BodySizeLimit, limit=settings.max_json_body_bytes, exempt_prefixes=STREAMED_BODY_PREFIXES
    )
    app.add_middleware(
        RequestBodyGuard, stall_seconds=settings.body_stall_seconds, drain_limit=DRAIN_LIMIT
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Content-Disposition", "Content-Range", "ETag", *TUS_HEADERS],
        )
    return app
