"""Every error the API returns is JSON {"error": <code>, "message": <human sentence>}.

Domain errors carry no HTTP status: the composition root passes one table mapping them to
statuses (`DomainError` rows, hotline/http.py) to install_error_handlers(); this module
imports no feature."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("hotline.api")


class ErrorBody(BaseModel):
    error: str
    message: str
    details: list[dict[str, Any]] | None = None


class ApiError(Exception):
    """Raised by route code: a status, a stable code and a sentence for the user."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        super().__init__(message)


class AccessDenied(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(403, "forbidden", message)


class NotFound(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__(404, "not_found", message)


def unauthenticated(message: str) -> ApiError:
    return ApiError(401, "unauthenticated", message, {"WWW-Authenticate": "Bearer"})


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting the error body."""
    return {s: {"model": ErrorBody, "description": HTTPStatus(s).phrase} for s in sorted(statuses)}


def _body(code: str, message: str, details: Sequence[dict[str, Any]] | None = None) -> Any:
    body: dict[str, Any] = {"error": code, "message": message}
    if details:
        body["details"] = list(details)
    return body


def _json(status: int, code: str, message: str, **kw: Any) -> JSONResponse:
    return JSONResponse(_body(code, message, kw.pop("details", None)), status_code=status, **kw)


@dataclass(frozen=True)
class DomainError:
    """One row of the domain-error table: instances of `cls` answer `status` with `code`
    (None: the exception's own `code` attribute). The first matching row wins, so a
    subclass comes before its base."""

    cls: type[Exception]
    status: int
    code: str | None


def _domain_status(exc: Exception, table: Sequence[DomainError]) -> tuple[int, str] | None:
    for row in table:
        if isinstance(exc, row.cls):
            code = row.code if row.code is not None else getattr(exc, "code", "error")
            return row.status, str(code)
    return None


def _validation_message(errors: Sequence[Any]) -> str:
    parts = []
    for err in errors[:3]:
        loc = [str(x) for x in err.get("loc", ()) if x not in ("body", "query", "path")]
        where = ".".join(loc) or "request"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "invalid request: " + "; ".join(parts) + more


_PLAIN = {
    404: "no such endpoint: {method} {path}",
    405: "{method} is not allowed on {path}",
}


def install_error_handlers(app: FastAPI, domain_errors: Sequence[DomainError] = ()) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return _json(exc.status, exc.code, exc.message, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        details = [
            {"loc": [str(x) for x in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in errors
        ]
        return _json(422, "invalid_request", _validation_message(errors), details=details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        phrase = HTTPStatus(exc.status_code).phrase
        message = str(exc.detail) if exc.detail and exc.detail != phrase else ""
        if message == "There was an error parsing the body":  # FastAPI's words
            message = "the request body is not valid JSON (UTF-8)"
        if not message:
            template = _PLAIN.get(exc.status_code, "{phrase}")
            message = template.format(
                method=request.method, path=request.url.path, phrase=phrase.lower()
            )
        code = phrase.lower().replace(" ", "_").replace("-", "_")
        return _json(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    async def _domain(request: Request, exc: Exception) -> JSONResponse:
        status, code = _domain_status(exc, domain_errors) or (500, "internal_error")
        return _json(status, code, str(exc))

    # Registered per class (not as a catch-all Exception handler, which Starlette runs in
    # its outermost middleware and then re-raises as a server error).
    for cls in dict.fromkeys(row.cls for row in domain_errors):
        app.add_exception_handler(cls, _domain)
