import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from hypersend import __version__
from hypersend.errors import FileStoreUnavailable
from hypersend.json_body import JsonRoute
from hypersend.services import ServicesDep

router = APIRouter(tags=["health"], route_class=JsonRoute)


@router.get("/health")
async def health(services: ServicesDep) -> JSONResponse:
    """200 when the database, the file store and the event bus answer, 503 otherwise."""
    checks: dict[str, str] = {}
    try:
        await asyncio.wait_for(services.storage.ping(), timeout=5)
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"error: {type(exc).__name__}"
    try:
        await asyncio.wait_for(services.files.store.check(), timeout=5)
        checks["storage"] = "ok"
    except FileStoreUnavailable as exc:
        checks["storage"] = f"error: {exc.detail}"
    except TimeoutError:
        checks["storage"] = "error: no answer in 5 s"
    bus = services.bus
    checks["bus"] = "ok" if bus.connected else f"error: {bus.description} unreachable"
    healthy = all(value == "ok" for value in checks.values())
    body = {
        "status": "ok" if healthy else "degraded",
        "version": __version__,
        **checks,
        "bus_kind": bus.description,
        "node": services.node_id,
    }
    return JSONResponse(body, status_code=200 if healthy else 503)
