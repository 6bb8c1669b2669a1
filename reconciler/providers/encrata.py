"""Encrata (`/api/webhooks`): ids only in the query string or JSON body, events required, `description`,
`is_active`; PUT is a full replace answered by `{"status": "updated"}`. 30 requests/minute per key.

Tolerates the vendor SDKs' variants: `{"webhooks": [...]}`, `{"deliveries": [...]}`, DELETE -> 204."""

from __future__ import annotations

import builtins
from typing import Any, ClassVar

from reconciler.core.capabilities import Capabilities
from reconciler.core.model import Delivery, DesiredWebhook, LiveWebhook, TestResult
from reconciler.core.secret import Secret
from reconciler.providers.capabilities import ENCRATA
from reconciler.providers.translate import Adapter, JsonObject, event_list, flag, integer, merged, text

PATH = "/api/webhooks"


class EncrataProvider(Adapter):
    capabilities: ClassVar[Capabilities] = ENCRATA
    forbidden_hint: ClassVar[str] = "a workspace role that may manage webhooks"

    def list(self) -> list[LiveWebhook]:
        return self.list_at(PATH)

    def get(self, webhook_id: str) -> LiveWebhook | None:
        body = self.fetch(PATH, {"id": webhook_id})
        found = self._pick(body, webhook_id)
        return None if found is None else self._live(found)

    def _pick(self, body: Any, webhook_id: str) -> JsonObject | None:
        """The object, or, where a server answers `?id=` with a list, the matching item of it."""
        if body is None:
            return None
        if isinstance(body, dict) and "id" in body:
            return body
        return next((item for item in self.items(body, "webhooks") if self.ident(item) == webhook_id), None)

    def create(self, hook: DesiredWebhook, secret: Secret | None) -> tuple[LiveWebhook, Secret]:
        sent: JsonObject = {"url": hook.url, "events": self._events(hook), "is_active": hook.active}
        if hook.description is not None:
            sent["description"] = hook.description
        data = self.call("POST", PATH, sent)
        return self._live(merged(sent, data)), self.secret_of(data)

    def update(self, live: LiveWebhook, hook: DesiredWebhook) -> LiveWebhook:
        # The backend replaces the whole object: always send every field. "" clears a description.
        sent = {
            "id": live.id,
            "url": hook.url,
            "events": self._events(hook),
            "description": hook.description or "",
            "is_active": hook.active,
        }
        self.api.request("PUT", PATH, json=sent)  # answers {"status": "updated"}, not the object
        return self._live({**sent, "created_at": live.created_at})

    def delete(self, webhook_id: str) -> None:
        self.api.request("DELETE", PATH, json={"id": webhook_id})  # 200 {"status"} or 204

    def test(self, webhook_id: str) -> TestResult:
        data = self.call("POST", f"{PATH}/test", {"id": webhook_id})
        status = text(data, "status")
        return TestResult(status == "sent", integer(data, "response_status"), text(data, "error") or status)

    def deliveries(self, webhook_id: str) -> builtins.list[Delivery]:
        body = self.api.request("GET", f"{PATH}/deliveries", params={"webhook_id": webhook_id}).body
        return self.deliveries_in(body, event=("event_type", "event"), response_status=("response_status",))

    def _events(self, hook: DesiredWebhook) -> builtins.list[str]:
        # The API needs at least one event: "all" is sent as the whole allow-list.
        return event_list(hook.events) if hook.events is not None else self.all_events()

    def _live(self, data: JsonObject) -> LiveWebhook:
        return LiveWebhook(
            id=self.ident(data),
            url=self.url_of(data),
            events=self.events_in(data.get("events")),
            active=flag(data, "is_active", "active", "enabled", default=True),
            description=text(data, "description"),
            created_at=text(data, "created_at"),
        )
