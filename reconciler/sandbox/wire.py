"""The emulators' shared vocabulary: a parsed request, an answer, an API error, a route, an API's facts and a
provider spec."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from reconciler.sandbox.faults import Faults

if TYPE_CHECKING:
    from reconciler.sandbox.state import Context


@dataclass(frozen=True)
class Request:
    method: str
    params: dict[str, str]  # path parameters, e.g. {"id": ...}
    query: dict[str, str]  # first value of each query parameter
    body: Any  # the decoded JSON body, or None when there was none


@dataclass(frozen=True)
class Response:
    status: int
    body: Any = None  # JSON-able; None sends an empty body
    headers: tuple[tuple[str, str], ...] = ()


class ApiError(Exception):
    """Answered in the provider's own error shape. `details` only reaches shapes that carry it."""

    def __init__(
        self, status: int, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.details = details


Handler = Callable[["Context", Request], Response]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: tuple[str, ...]  # path segments after the API root; "{name}" captures one segment
    handler: Handler
    write: bool = False  # needs a write role (403 for read-only tokens)
    mutates: bool = False  # changes state: the commit-then-fail fault applies

    def match(self, segments: tuple[str, ...]) -> dict[str, str] | None:
        if len(segments) != len(self.pattern):
            return None
        params: dict[str, str] = {}
        for want, got in zip(self.pattern, segments, strict=True):
            if want.startswith("{"):
                params[want[1:-1]] = got
            elif want != got:
                return None
        return params


ErrorBody = Callable[[ApiError, str], dict[str, Any]]  # (error, variant) -> JSON body


@dataclass(frozen=True)
class RateLimitStyle:
    """How a provider announces limits: `X-RateLimit-*` headers, and the wait in a header or the body."""

    limit: Callable[[Faults], int]  # requests per minute per token and account, as the headers announce it
    enforced: Callable[[Faults], bool]  # False: headers only (InfraAudit documents no number; a lifted limit)
    wait_in_body: bool  # InfraAudit: `retryAfter` in the 429 body and no Retry-After header


@dataclass(frozen=True)
class ApiFacts:
    """What one vendor's documents say about its webhook API, in the API's own words.

    Each emulator writes its copy from the vendor's pages (and the reference choices where they are silent)
    and never reads the product's capability table: tests/test_emulator_facts.py compares the two copies,
    so a wrong event name or field in either one fails there instead of being agreed on by both sides.
    """

    base_url: str | None  # the documented public base URL; None: each tenant has its own
    events: frozenset[str] | None  # the event catalog; None: the API has no events field (every event)
    min_events: int  # 0: an omitted or empty list subscribes to every event; 1: at least one is required
    https_only: bool  # webhook URLs must be https://
    active_field: str | None  # the on/off flag; None: a webhook cannot be paused, only removed
    label_field: str | None  # a name-like field the client sets
    description_field: str | None  # a free-text field the client sets
    client_secret_field: str | None  # where a client may send its own signing secret
    issues_secret: bool  # the server makes the signing secret (shown once, in the create answer)
    rotates_in_place: bool  # the secret can be replaced without deleting the webhook
    test: Literal["none", "webhook", "all"]  # a test-delivery call: none, per webhook, or all webhooks at once
    delivery_statuses: frozenset[str]  # what the delivery history reports; empty: the API keeps none
    extra_fields: frozenset[str] = frozenset()  # settings no other API has (Immuta's verifyTls)
    requests_per_minute: int | None = None  # a documented rate limit per API key
    unique_urls: bool = False  # a second webhook with the same URL is refused (409)
    other_hosts: frozenset[str] = frozenset()  # documented API hosts beside the base URL's (regions, an SDK's)


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    api_root: str  # e.g. "/api/v1/webhooks"; everything before it is the account prefix
    routes: tuple[Route, ...]
    error_body: ErrorBody
    forbidden_message: str
    facts: ApiFacts
    base_suffix: str = ""  # the tail of the documented base URL, e.g. Immuta's "/marketplace"
    variants: frozenset[str] = field(default_factory=lambda: frozenset({"reference"}))
    rate_limit: RateLimitStyle | None = None
    # Ingate (enterprise admin) and Immuta (APPLICATION_ADMIN) refuse a token without the role on every
    # route, reads too; the others only on writes.
    role_for_reads: bool = False
