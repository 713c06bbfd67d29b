"""The one JSON error shape every service answers with.

`{"error": {"code": "...", "message": "...", "details": [...]}}`
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.logging import get_logger

log = get_logger(__name__)

UNSTORABLE_SQLSTATES = frozenset({"22021", "22P05"})
"""character_not_in_repertoire (a NUL in text), untranslatable_character (a NUL in jsonb)."""

_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid",
    429: "too_many_requests",
    503: "unavailable",
}


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object"}},
            },
        }
    },
}
"""JSON Schema of the error document, for OpenAPI."""


class ApiError(Exception):
    """An error answered to the client in the common shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _CODES.get(status, "error")
        self.message = message
        self.details = details or []
        self.headers = headers


def error_body(
    code: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Return the error document."""
    return {"error": {"code": code, "message": message, "details": details or []}}


def error_response(error: ApiError) -> JSONResponse:
    """Render an `ApiError` as a response."""
    return JSONResponse(
        error_body(error.code, error.message, error.details),
        status_code=error.status,
        headers=error.headers,
    )


def unstorable_input(exc: BaseException) -> bool:
    """Whether a database error says a request's value cannot be stored or passed at all:
    a NUL character in text, or an integer beyond the 64 bits of a bigint parameter."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if getattr(current, "sqlstate", None) in UNSTORABLE_SQLSTATES:
            return True
        if "invalid input for query argument" in str(current) and "out of" in str(current):
            return True
        current = getattr(current, "orig", None) or current.__cause__
    return False


def install_error_handlers(app: FastAPI) -> None:
    """Make every error the app answers use the common shape."""

    async def on_api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc)

    async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        return JSONResponse(
            error_body(_CODES.get(exc.status_code, "error"), message),
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    async def on_validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = [
            {"field": ".".join(str(p) for p in err["loc"]), "reason": err["msg"]}
            for err in exc.errors()
        ]
        return JSONResponse(error_body("invalid", "request is invalid", details), status_code=422)

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        # Input the database cannot hold is the caller's mistake (422); anything else is
        # a server error and is raised on.
        if not unstorable_input(exc):
            raise exc
        log.info("request refused: value cannot be stored", path=request.url.path)
        return error_response(
            ApiError(
                422,
                "a value of the request cannot be stored (a NUL character, or an integer "
                "beyond 64 bits)",
            )
        )

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
