"""Request-body validation shared by the emulators; each raises ApiError with the provider's status."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from reconciler.sandbox.wire import ApiError


class Fields:
    """Reads one JSON object body, answering `status` (400, or InfraAudit's 422) on bad input.

    Optional readers return None for an absent key, so callers can tell "omitted = unchanged".
    """

    def __init__(self, body: Any, status: int = 400) -> None:
        if not isinstance(body, dict):
            raise ApiError(400, "request body must be a JSON object", code="bad_request")
        self.body: dict[str, Any] = body
        self.status = status

    def _bad(self, key: str, problem: str) -> ApiError:
        return ApiError(self.status, f"{key} {problem}", code="validation_error", details={key: problem})

    def has(self, key: str) -> bool:
        return key in self.body

    def string(self, key: str, *, nullable: bool = False) -> str | None:
        if key not in self.body or (nullable and self.body[key] is None):
            return None
        value = self.body[key]
        if not isinstance(value, str):
            raise self._bad(key, "must be a string")
        return value

    def need_string(self, key: str) -> str:
        value = self.body.get(key)
        if value is None:
            raise self._bad(key, "is required")
        if not isinstance(value, str):
            raise self._bad(key, "must be a string")
        if not value.strip():
            raise self._bad(key, "must not be empty")
        return value

    def boolean(self, key: str, default: bool | None = None) -> bool | None:
        """`default` when the key is absent; a present value, null included, must be true or false."""
        if key not in self.body:
            return default
        value = self.body[key]
        if not isinstance(value, bool):
            raise self._bad(key, "must be a boolean")
        return value

    def url(self, key: str, *, https_only: bool) -> str | None:
        return self.need_url(key, https_only=https_only) if key in self.body else None

    def need_url(self, key: str, *, https_only: bool) -> str:
        value = self.need_string(key)
        parts = urlsplit(value)
        allowed = ("https",) if https_only else ("http", "https")
        if parts.scheme not in allowed or not parts.hostname:
            raise self._bad(key, "must be an HTTPS URL" if https_only else "must be an http(s) URL")
        return value

    def events(self, key: str, catalog: Iterable[str], *, min_items: int, required: bool = False) -> list[str] | None:
        if key not in self.body and not required:
            return None
        value = self.body.get(key)
        if value is None:
            raise self._bad(key, "is required")
        if not isinstance(value, list) or not all(isinstance(e, str) for e in value):
            raise self._bad(key, "must be a list of strings")
        if len(value) < min_items:
            raise self._bad(key, f"must contain at least {min_items} event")
        unknown = sorted(set(value) - set(catalog))
        if unknown:
            raise self._bad(key, f"contains unknown events: {', '.join(unknown)}")
        return list(value)
