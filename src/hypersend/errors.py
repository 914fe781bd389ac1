"""Domain errors that carry their own status and machine code.

They are plain exceptions: services raise them without knowing that they are served over
HTTP. `hypersend.error_responses` turns them (and the framework's own errors) into the one
shape every error leaves the server in: `{"detail": "<message>", "code": "<machine_code>"}`.
"""

from collections.abc import Mapping


class ApiError(Exception):
    status: int = 400
    code: str = "bad_request"

    def __init__(
        self, detail: str, *, code: str | None = None, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = dict(headers) if headers else {}
        if code is not None:
            self.code = code


class BadRequest(ApiError):
    status, code = 400, "bad_request"


class Unauthorized(ApiError):
    status, code = 401, "unauthorized"

    def __init__(self, detail: str = "Not authenticated", *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class RangeNotSatisfiable(ApiError):
    status, code = 416, "range_not_satisfiable"


class Unprocessable(ApiError):
    status, code = 422, "invalid_input"


class TooManyRequests(ApiError):
    status, code = 429, "rate_limited"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


class RequestTimeout(ApiError):
    status, code = 408, "request_timeout"


class InsufficientStorage(ApiError):
    status, code = 507, "insufficient_storage"


class ServiceUnavailable(ApiError):
    status, code = 503, "service_unavailable"

    def __init__(self, detail: str, *, code: str | None = None, retry_after: int = 5) -> None:
        super().__init__(detail, code=code, headers={"Retry-After": str(max(1, retry_after))})


class FileStoreUnavailable(ServiceUnavailable):
    """The file store (the S3 bucket) cannot be reached or refuses: try again shortly."""

    code = "file_store_unavailable"
