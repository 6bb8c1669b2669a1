"""Keeptrusts (`/v1/webhooks`): `name` label, `[]` = all events, optional client secret, rotate-secret."""

from __future__ import annotations

import builtins
from typing import ClassVar

from reconciler.core.capabilities import Capabilities
from reconciler.core.model import Delivery, DesiredWebhook, LiveWebhook, TestResult
from reconciler.core.secret import Secret
from reconciler.providers.capabilities import KEEPTRUSTS
from reconciler.providers.translate import Adapter, JsonObject, event_list, flag, integer, merged, segment, text

PATH = "/v1/webhooks"


class KeeptrustsProvider(Adapter):
    capabilities: ClassVar[Capabilities] = KEEPTRUSTS
    forbidden_hint: ClassVar[str] = "scope webhooks:write"

    def list(self) -> list[LiveWebhook]:
        return self.list_at(PATH)

    def get(self, webhook_id: str) -> LiveWebhook | None:
        return self.get_at(f"{PATH}/{segment(webhook_id)}")

    def create(self, hook: DesiredWebhook, secret: Secret | None) -> tuple[LiveWebhook, Secret]:
        sent: JsonObject = {"name": hook.name, "url": hook.url, "enabled": hook.active}
        if hook.events is not None:  # omitted = every event
            sent["events"] = event_list(hook.events)
        if secret is not None:
            sent["secret"] = secret.reveal()
        data = self.call("POST", PATH, sent)
        # The server generates a secret unless one is supplied; it may not echo a supplied one.
        in_force = self.secret_of(data) if secret is None or "secret" in data else secret
        live = self._live(merged({k: v for k, v in sent.items() if k != "secret"}, data))
        return live, in_force

    def update(self, live: LiveWebhook, hook: DesiredWebhook) -> LiveWebhook:
        sent = {
            "name": hook.name,
            "url": hook.url,
            "events": event_list(hook.events or ()),
            "enabled": hook.active,
        }
        body = self.api.request("PUT", f"{PATH}/{segment(live.id)}", json=sent).body
        return self._live(merged({"id": live.id, "created_at": live.created_at, **sent}, body))

    def delete(self, webhook_id: str) -> None:
        self.api.request("DELETE", f"{PATH}/{segment(webhook_id)}")

    def rotate(self, live: LiveWebhook, secret: Secret | None) -> Secret:
        # The API generates the new secret; the old one stops working at once.
        return self.secret_of(self.call("POST", f"{PATH}/{segment(live.id)}/rotate-secret"))

    def test(self, webhook_id: str) -> TestResult:
        data = self.call("POST", f"{PATH}/{segment(webhook_id)}/test")
        status = text(data, "status")
        ok = flag(data, "delivered", "success", default=status == "success")
        return TestResult(ok, integer(data, "status_code", "response_code"), text(data, "error", "message"))

    def deliveries(self, webhook_id: str) -> builtins.list[Delivery]:
        body = self.api.request("GET", f"{PATH}/{segment(webhook_id)}/deliveries").body
        return self.deliveries_in(
            body, event=("event", "event_type"), response_status=("response_code", "response_status", "status_code")
        )

    def _live(self, data: JsonObject) -> LiveWebhook:
        return LiveWebhook(
            id=self.ident(data),
            url=self.url_of(data),
            events=self.events_in(data.get("events")),
            active=flag(data, "enabled", "is_enabled", "active", default=True),
            label=text(data, "name"),
            created_at=text(data, "created_at"),
        )
