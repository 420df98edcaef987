"""Domain errors. Each class carries its HTTP status and error type: the one mapping of DESIGN §2.

Handlers raise these; `ferry.api` renders every one of them as the documented envelope
`{"error": {"code", "message", "type"}}`. Messages are written for the caller: say what to do.
"""

from __future__ import annotations


class FerryError(Exception):
    status: int = 500
    type: str = "api_error"
    code: str = "internal_error"

    def __init__(self, message: str, *, code: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.headers = headers or {}


class InvalidRequest(FerryError):
    status, type, code = 400, "invalid_request_error", "invalid_request"


class AuthenticationFailed(FerryError):
    status, type, code = 401, "authentication_error", "invalid_api_key"


class PermissionDenied(FerryError):
    status, type, code = 403, "permission_error", "permission_denied"


class NotFound(FerryError):
    status, type, code = 404, "not_found_error", "not_found"


class Conflict(FerryError):
    status, type, code = 409, "invalid_request_error", "conflict"


class Gone(FerryError):
    status, type, code = 410, "invalid_request_error", "expired"


class PayloadTooLarge(FerryError):
    status, type, code = 413, "invalid_request_error", "file_too_large"


class UnsupportedMediaType(FerryError):
    status, type, code = 415, "invalid_request_error", "unsupported_file_type"


class UnprocessableContent(FerryError):
    status, type, code = 422, "invalid_request_error", "corrupt_file"


class QuotaExceeded(FerryError):
    status, type, code = 429, "rate_limit_error", "quota_exceeded"

    def __init__(self, message: str, *, retry_after_seconds: int):
        super().__init__(message, headers={"Retry-After": str(retry_after_seconds)})
        self.retry_after_seconds = retry_after_seconds


class UpstreamFailed(FerryError):
    status, type, code = 502, "upstream_error", "upstream_failed"


class UpstreamTimeout(FerryError):
    status, type, code = 504, "upstream_error", "upstream_timeout"
