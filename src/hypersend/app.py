"""Builds the ASGI application: routers, error handling, middleware and lifespan."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from hypersend import __version__
from hypersend.auth.endpoints import router as auth_router
from hypersend.body_limit import BodySizeLimit
from hypersend.config import Settings
from hypersend.errors import install_error_handlers
from hypersend.health import router as health_router
from hypersend.services import build_services
from hypersend.storage import open_storage
from hypersend.users.endpoints import router as users_router

STREAMED_BODY_PREFIXES = ("/files/upload/chunk/",)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.files_dir.mkdir(parents=True, exist_ok=True)
        storage = await open_storage(settings)
        app.state.services = build_services(settings, storage)
        try:
            yield
        finally:
            await storage.close()

    app = FastAPI(
        title="HyperSend",
        version=__version__,
        summary="Self-hosted chat and very large file transfer.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for router in (health_router, auth_router, users_router):
        app.include_router(router)
    app.add_middleware(
        BodySizeLimit, limit=settings.max_json_body_bytes, exempt_prefixes=STREAMED_BODY_PREFIXES
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Content-Disposition", "Content-Range", "ETag"],
        )
    return app
