"""What the five adapters share: tolerant JSON readers and the defaults for optional operations."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any, ClassVar
from urllib.parse import quote

from reconciler.core.capabilities import Capabilities
from reconciler.core.errors import ProviderError
from reconciler.core.model import Delivery, LiveWebhook, TestResult
from reconciler.core.secret import Secret
from reconciler.providers.http import ApiClient

JsonObject = dict[str, Any]

_DELIVERY_STATUS = {
    "success": "success",
    "succeeded": "success",
    "delivered": "success",
    "ok": "success",
    "sent": "success",
    "failed": "failed",
    "failure": "failed",
    "error": "failed",
    "pending": "pending",
    "queued": "pending",
    "retrying": "pending",
}


class Adapter(abc.ABC):
    """Base of the adapters: holds the bound ApiClient; optional operations default to "unsupported"."""

    capabilities: ClassVar[Capabilities]
    forbidden_hint: ClassVar[str]  # what a 403 means on this API, for the error message

    def __init__(self, api: ApiClient) -> None:
        self.api = api

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.api!r})"

    @property
    def name(self) -> str:
        return self.capabilities.name

    @property
    def writes_done(self) -> int:
        return self.api.writes_done

    def fetch(self, path: str, params: dict[str, str | int] | None = None) -> Any:
        """GET one object's body; None when the API answers 404."""
        try:
            return self.api.request("GET", path, params=params).body
        except ProviderError as exc:
            if exc.status == 404:
                return None
            raise

    def list_at(self, path: str) -> list[LiveWebhook]:
        """Every webhook of one list call (no paging), bare or wrapped as `{"webhooks": [...]}`."""
        return [self._live(item) for item in self.items(self.api.request("GET", path).body, "webhooks")]

    def get_at(self, path: str) -> LiveWebhook | None:
        """The webhook at its own URL; None when the API answers 404."""
        body = self.fetch(path)
        return None if body is None else self._live(self.obj(body))

    def call(self, method: str, path: str, json: Any = None) -> JsonObject:
        """A request whose answer must be one JSON object (a create, a test, a rotation)."""
        return self.obj(self.api.request(method, path, json=json).body)

    @abc.abstractmethod
    def _live(self, data: JsonObject) -> LiveWebhook:
        """One webhook of a response, in the model's terms: each API's own field names."""

    def error(self, message: str) -> ProviderError:
        return ProviderError(f"{self.name}: {message}")

    def rotate(self, live: LiveWebhook, secret: Secret | None) -> Secret:
        raise self.error("the API does not support in-place rotation (delete and re-create the webhook)")

    def test(self, webhook_id: str) -> TestResult:
        raise self.error("the API has no test endpoint")

    def deliveries(self, webhook_id: str) -> list[Delivery]:
        return []

    def all_events(self) -> list[str]:
        """The whole catalog, for APIs that need at least one event where the manifest means "all"."""
        return sorted(self.capabilities.events or ())

    def events_in(self, raw: Any) -> frozenset[str] | None:
        """Events as a set; an absent list, or `[]` where the API takes it as "all", is None ("all")."""
        if raw is None:
            return None
        if not isinstance(raw, list) or not all(isinstance(e, str) for e in raw):
            raise self.error(f"unexpected 'events' value in a response: {type(raw).__name__}")
        if not raw and self.capabilities.empty_events_means_all:
            return None
        return frozenset(raw)

    def items(self, body: Any, key: str) -> list[JsonObject]:
        """A list response, bare (`[...]`) or wrapped (`{key: [...], "total": n}`)."""
        if isinstance(body, dict) and isinstance(body.get(key), list):
            body = body[key]
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise self.error(f"unexpected list response ({type(body).__name__})")
        return body

    def obj(self, body: Any) -> JsonObject:
        if not isinstance(body, dict):
            raise self.error(f"unexpected response ({type(body).__name__}, expected an object)")
        return body

    def deliveries_in(self, body: Any, *, event: tuple[str, ...], response_status: tuple[str, ...]) -> list[Delivery]:
        """A delivery-history response; `event` and `response_status` name the keys to try, in order."""
        return [
            Delivery(
                id=self.ident(item),
                event=text(item, *event),
                status=delivery_status(text(item, "status")),
                response_status=integer(item, *response_status),
                created_at=text(item, "created_at"),
            )
            for item in self.items(body, "deliveries")
        ]

    def ident(self, data: JsonObject) -> str:
        value = data.get("id")
        if isinstance(value, bool) or not isinstance(value, (str, int)) or value == "":
            raise self.error("a webhook in the response has no id")
        return str(value)

    def url_of(self, data: JsonObject) -> str:
        value = data.get("url")
        if not isinstance(value, str):
            raise self.error("a webhook in the response has no url")
        return value

    def secret_of(self, data: JsonObject, key: str = "secret") -> Secret:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            # The webhook exists now: name it so the caller can find and delete it.
            raise self.error(f"the response for webhook {data.get('id')!r} carried no signing secret")
        return Secret(value)


def segment(value: str) -> str:
    """An API value (an id) as one path segment, percent-encoded (contract §6): `../x` stays one segment, `x?y#z`
    carries no query, `%76` is no escape. "", "." and ".." name no single resource, and servers resolve dot
    segments even percent-encoded (WHATWG reads `%2e` as a dot), so they are refused, never sent."""
    if value in ("", ".", ".."):
        raise ProviderError(f"refused to put the id {value!r} into a request path: it names no single resource")
    return quote(value, safe="")


def text(data: JsonObject, *keys: str) -> str | None:
    """The first non-empty string among `keys` (vendors spell one field several ways)."""
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def flag(data: JsonObject, *keys: str, default: bool) -> bool:
    for key in keys:
        value = data.get(key)
        if isinstance(value, bool):
            return value
    return default


def integer(data: JsonObject, *keys: str) -> int | None:
    for key in keys:
        value = data.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def delivery_status(raw: str | None) -> str:
    """success | failed | pending; an unknown vendor status is kept as it is."""
    if raw is None:
        return "pending"
    return _DELIVERY_STATUS.get(raw.lower(), raw.lower())


def event_list(events: Iterable[str]) -> list[str]:
    """Events in a stable order, so requests (and their logs and tests) are deterministic."""
    return sorted(set(events))


def merged(sent: JsonObject, received: Any) -> JsonObject:
    """The webhook after a write: the response's fields, falling back to what was sent for those it
    omits (InfraAudit's create response has no `enabled`; Encrata's update returns no object)."""
    return {**sent, **received} if isinstance(received, dict) else dict(sent)
