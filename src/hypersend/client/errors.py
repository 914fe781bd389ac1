"""Typed errors for everything a HyperSend server can answer with."""

from typing import Any


class HyperSendError(Exception):
    """Base class: the server answered with an error, or could not be reached."""


class ServerUnreachable(HyperSendError):
    pass


class ApiError(HyperSendError):
    def __init__(
        self, status: int, code: str, detail: Any, problems: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.problems = problems or []
        """A validation error's problems, each with its `loc`ation and `msg`."""


class AuthError(ApiError):
    """401: not signed in, or the session has ended."""


class PermissionDenied(ApiError):
    """403."""


class NotFoundError(ApiError):
    """404: it does not exist, or it is not yours to see."""


class ConflictError(ApiError):
    """409."""


class TooLargeError(ApiError):
    """413."""


class InvalidInput(ApiError):
    """400 or 422."""


class RateLimited(ApiError):
    """429; `retry_after` says how many seconds to wait."""

    def __init__(self, status: int, code: str, detail: Any, retry_after: int) -> None:
        super().__init__(status, code, detail)
        self.retry_after = retry_after


_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidInput,
    401: AuthError,
    403: PermissionDenied,
    404: NotFoundError,
    409: ConflictError,
    413: TooLargeError,
    422: InvalidInput,
}


def error_for(status: int, body: Any, headers: dict[str, str]) -> ApiError:
    detail = body.get("detail", body) if isinstance(body, dict) else body
    code = body.get("code", "error") if isinstance(body, dict) else "error"
    if status == 429:
        retry_after = headers.get("retry-after", "1")
        wait = int(retry_after) if retry_after.isascii() and retry_after.isdigit() else 1
        return RateLimited(status, code, detail, wait)
    problems = body.get("errors") if isinstance(body, dict) else None
    error_type = _BY_STATUS.get(status, ApiError)
    return error_type(status, code, detail, problems if isinstance(problems, list) else None)
