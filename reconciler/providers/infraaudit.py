"""InfraAudit (`/api/v1/webhooks`): `name` label, events required, `enabled`, paged deliveries.

Tolerates the vendor server's variants: `is_enabled`, `{"webhooks": [...], "total": n}`, uuid ids."""

from __future__ import annotations

import builtins
from typing import ClassVar

from reconciler.core.capabilities import Capabilities
from reconciler.core.model import Delivery, DesiredWebhook, LiveWebhook, TestResult
from reconciler.core.secret import Secret
from reconciler.providers.capabilities import INFRAAUDIT
from reconciler.providers.translate import Adapter, JsonObject, event_list, flag, integer, merged, segment, text

PATH = "/api/v1/webhooks"
DELIVERIES_KEPT = 100  # the API keeps the last 100 attempts
DELIVERIES_PER_PAGE = 50
MAX_LIST_PAGES = 100


class InfraAuditProvider(Adapter):
    capabilities: ClassVar[Capabilities] = INFRAAUDIT
    forbidden_hint: ClassVar[str] = "a role that may manage webhooks"

    def list(self) -> list[LiveWebhook]:
        body = self.api.request("GET", PATH).body
        items = self.items(body, "webhooks")
        total = integer(body, "total") if isinstance(body, dict) else None
        if total is not None and len(items) < total:
            items = self._remaining_pages(items, total)
        return [self._live(item) for item in items]

    def _remaining_pages(self, first: builtins.list[JsonObject], total: int) -> builtins.list[JsonObject]:
        """The wrapped list says how many exist: fetch the pages after the first, so that no live webhook
        is missed (a missed one would be created again)."""
        items, seen = list(first), {self.ident(i) for i in first}
        for page in range(2, MAX_LIST_PAGES + 1):
            params: dict[str, str | int] = {"page": page, "per_page": len(first)}
            batch = self.items(self.api.request("GET", PATH, params=params).body, "webhooks")
            fresh = [i for i in batch if self.ident(i) not in seen]
            if not fresh:
                break
            items += fresh
            seen.update(self.ident(i) for i in fresh)
            if len(items) >= total:
                return items
        raise self.error(f"the webhook list is incomplete: got {len(items)} of {total}")

    def get(self, webhook_id: str) -> LiveWebhook | None:
        return self.get_at(f"{PATH}/{segment(webhook_id)}")

    def create(self, hook: DesiredWebhook, secret: Secret | None) -> tuple[LiveWebhook, Secret]:
        sent = self._body(hook)
        data = self.call("POST", PATH, sent)
        return self._live(merged(sent, _normalised(data))), self.secret_of(data)

    def update(self, live: LiveWebhook, hook: DesiredWebhook) -> LiveWebhook:
        sent = self._body(hook)
        body = self.api.request("PUT", f"{PATH}/{segment(live.id)}", json=sent).body
        kept = {
            "id": live.id,
            "created_at": live.created_at,
            "last_delivery_status": live.last_delivery_status,
        }
        return self._live(merged({**kept, **sent}, _normalised(body)))

    def delete(self, webhook_id: str) -> None:
        self.api.request("DELETE", f"{PATH}/{segment(webhook_id)}")  # 204, or 200 {"message"} from the vendor server

    def test(self, webhook_id: str) -> TestResult:
        data = self.call("POST", f"{PATH}/{segment(webhook_id)}/test")
        status = text(data, "status")
        ok = status == "success" if status is not None else flag(data, "success", default=False)
        return TestResult(ok, integer(data, "response_status", "status_code"), text(data, "error", "message"))

    def deliveries(self, webhook_id: str) -> builtins.list[Delivery]:
        collected: builtins.list[Delivery] = []
        seen: set[str] = set()
        page, longest = 1, 0
        while len(collected) < DELIVERIES_KEPT:
            params: dict[str, str | int] = {"page": page, "per_page": DELIVERIES_PER_PAGE}
            body = self.api.request("GET", f"{PATH}/{segment(webhook_id)}/deliveries", params=params).body
            batch = self.deliveries_in(
                body, event=("event", "event_type"), response_status=("response_status", "status_code")
            )
            fresh = [d for d in batch if d.id not in seen]
            collected += fresh
            seen.update(d.id for d in fresh)
            # A server may serve fewer than the per_page asked for (the documented default is 20), so a short
            # first page is not the last: the end is an empty page, nothing new, or a page shorter than before.
            if not fresh or len(batch) < longest:
                break
            longest = len(batch)
            page += 1
        return collected[:DELIVERIES_KEPT]

    def _body(self, hook: DesiredWebhook) -> JsonObject:
        # The API needs at least one event: "all" is sent as the whole catalog.
        events = event_list(hook.events) if hook.events is not None else self.all_events()
        # The vendor's own server reads `is_enabled`, the documented API `enabled`: send both.
        return {"name": hook.name, "url": hook.url, "events": events, "enabled": hook.active, "is_enabled": hook.active}

    def _live(self, data: JsonObject) -> LiveWebhook:
        return LiveWebhook(
            id=self.ident(data),
            url=self.url_of(data),
            events=self.events_in(data.get("events")),
            active=flag(data, "enabled", "is_enabled", default=True),
            label=text(data, "name"),
            created_at=text(data, "created_at"),
            last_delivery_status=text(data, "last_delivery_status"),
        )


def _normalised(body: object) -> object:
    """The vendor server says `is_enabled`: rename it, so it wins over the `enabled` we sent."""
    if isinstance(body, dict) and "is_enabled" in body and "enabled" not in body:
        return {**body, "enabled": body["is_enabled"]}
    return body
