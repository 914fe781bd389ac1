"""Every error leaves the server in one shape: `{"detail": "<message>", "code": "<code>"}`.

Validation errors add `errors`: each problem with its location, for programs; `detail` says
them all in one sentence, for people.
"""

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from hypersend.errors import ApiError
from hypersend.storage.errors import StorageUnavailable

logger = logging.getLogger("hypersend")

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "invalid_input",
    429: "rate_limited",
}


class ErrorBody(BaseModel):
    """What every error answers."""

    detail: str
    code: str


class Problem(BaseModel):
    type: str
    loc: list[str | int]
    msg: str


class ValidationErrorBody(ErrorBody):
    """A 422 for input that breaks the documented rules: each problem, for programs."""

    errors: list[Problem] = []


def _error(description: str, model: type[BaseModel] = ErrorBody) -> dict[str, Any]:
    return {"description": description, "model": model}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _error("The body is not what the route reads (not JSON, not UTF-8)"),
    401: _error("No valid access token (or upload ticket, or signed link)"),
    403: _error("Signed in, but not allowed to do this"),
    404: _error("Not found, or not the caller's to see"),
    408: _error("The request body stopped arriving"),
    409: _error("Conflicts with what is stored (an email taken, a chunk already different)"),
    413: _error("The body, or the file, is larger than allowed"),
    422: _error("Input that breaks the documented rules", ValidationErrorBody),
    429: _error("Too many attempts: wait for Retry-After seconds"),
    503: _error("The database is unavailable: try again after Retry-After seconds"),
}
"""What any route may answer besides its own successes; each route adds its particular
ones (`RANGE_NOT_SATISFIABLE`, `NO_ROOM`). Declared on every route of the API."""

NO_ROOM: dict[int | str, dict[str, Any]] = {
    507: _error("The server's disk has no room for the file"),
}
"""For the routes that take a file's bytes."""

RANGE_NOT_SATISFIABLE: dict[int | str, dict[str, Any]] = {
    416: _error("The Range asked for lies outside the file"),
}


def error_body(detail: str, code: str) -> dict[str, Any]:
    return {"detail": detail, "code": code}


def describe_problems(errors: Iterable[Mapping[str, Any]]) -> str:
    """Pydantic's errors as one sentence: `password: String should have at least 8
    characters; email: value is not a valid email address`."""
    return "; ".join(_describe(error) for error in errors) or "Invalid input"


def _describe(error: Mapping[str, Any]) -> str:
    location: Sequence[Any] = error.get("loc", ())
    if location and location[0] in ("body", "query", "path", "header") and len(location) > 1:
        location = location[1:]
    where = ".".join(str(part) for part in location)
    message = str(error.get("msg", "invalid"))
    reason = (error.get("ctx") or {}).get("error")
    if reason is not None and str(reason) not in message:
        message = f"{message}: {reason}"
    return f"{where}: {message}" if where else message


def api_error_response(exc: ApiError) -> JSONResponse:
    return JSONResponse(
        error_body(exc.detail, exc.code), status_code=exc.status, headers=exc.headers or None
    )


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return api_error_response(exc)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """The framework's own errors (an unknown path, a method a route does not take)."""
    assert isinstance(exc, StarletteHTTPException)
    code = _CODES_BY_STATUS.get(exc.status_code, "error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:  # every method of the path, not just the first route's
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return JSONResponse(
        error_body(str(exc.detail), code), status_code=exc.status_code, headers=headers
    )


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        route_methods = getattr(route, "methods", None)
        if match != Match.NONE and route_methods:
            methods |= set(route_methods)
    return sorted(methods)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        {key: value for key, value in error.items() if key in ("type", "loc", "msg")}
        for error in exc.errors()
    ]
    body = {**error_body(describe_problems(exc.errors()), "validation_error"), "errors": problems}
    return JSONResponse(body, status_code=422)


async def _storage_unavailable(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("Database unavailable on %s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        error_body("The database is unavailable; try again shortly", "database_unavailable"),
        status_code=503,
        headers={"Retry-After": "2"},
    )


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("Unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse(error_body("Internal server error", "internal_error"), status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StorageUnavailable, _storage_unavailable)
    app.add_exception_handler(Exception, _unexpected_error)
