"""Ingate (`/api/v1/webhooks`): events optional (`[]` = all), `active` flag, no label, test or rotation."""

from __future__ import annotations

from typing import ClassVar

from reconciler.core.capabilities import Capabilities
from reconciler.core.model import DesiredWebhook, LiveWebhook
from reconciler.core.secret import Secret
from reconciler.providers.capabilities import INGATE
from reconciler.providers.translate import Adapter, JsonObject, event_list, flag, merged, segment, text

PATH = "/api/v1/webhooks"


class IngateProvider(Adapter):
    capabilities: ClassVar[Capabilities] = INGATE
    forbidden_hint: ClassVar[str] = "an Enterprise plan and the admin role"

    def list(self) -> list[LiveWebhook]:
        return self.list_at(PATH)

    def get(self, webhook_id: str) -> LiveWebhook | None:
        return self.get_at(f"{PATH}/{segment(webhook_id)}")

    def create(self, hook: DesiredWebhook, secret: Secret | None) -> tuple[LiveWebhook, Secret]:
        sent: JsonObject = {"url": hook.url, "active": hook.active}
        if hook.events is not None:  # omitted = every event
            sent["events"] = event_list(hook.events)
        data = self.call("POST", PATH, sent)
        return self._live(merged(sent, data)), self.secret_of(data)

    def update(self, live: LiveWebhook, hook: DesiredWebhook) -> LiveWebhook:
        sent = {"url": hook.url, "events": event_list(hook.events or ()), "active": hook.active}
        body = self.api.request("PUT", f"{PATH}/{segment(live.id)}", json=sent).body
        return self._live(merged({"id": live.id, "created_at": live.created_at, **sent}, body))

    def delete(self, webhook_id: str) -> None:
        self.api.request("DELETE", f"{PATH}/{segment(webhook_id)}")

    def _live(self, data: JsonObject) -> LiveWebhook:
        return LiveWebhook(
            id=self.ident(data),
            url=self.url_of(data),
            events=self.events_in(data.get("events")),
            active=flag(data, "active", "enabled", "is_active", default=True),
            created_at=text(data, "created_at", "createdAt"),
        )
