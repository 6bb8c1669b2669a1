"""The Hookrelay adapter: JSON <-> the model, nothing else. `Adapter` brings the HTTP client (retries, rate
limits, bounded reads, read-only refusal), error handling and the JSON helpers."""

from __future__ import annotations

from typing import ClassVar

from reconciler.core.capabilities import Capabilities
from reconciler.core.model import DesiredWebhook, LiveWebhook
from reconciler.core.secret import Secret
from reconciler.providers.translate import Adapter, JsonObject, event_list, flag, merged, segment, text
from webhook_reconciler_hookrelay.plugin import CAPABILITIES

PATH = "/api/v2/hooks"


def _at(webhook_id: str) -> str:
    return f"{PATH}/{segment(webhook_id)}"  # an id from the API never changes which resource is reached


class HookrelayProvider(Adapter):
    capabilities: ClassVar[Capabilities] = CAPABILITIES
    forbidden_hint: ClassVar[str] = "a token with the hooks:write scope"

    def list(self) -> list[LiveWebhook]:
        return [self._live(item) for item in self.items(self.api.request("GET", PATH).body, "hooks")]

    def get(self, webhook_id: str) -> LiveWebhook | None:
        return next((hook for hook in self.list() if hook.id == webhook_id), None)  # no GET by id

    def create(self, hook: DesiredWebhook, secret: Secret | None) -> tuple[LiveWebhook, Secret]:
        sent = self._body(hook)
        data = self.call("POST", PATH, sent)
        return self._live(merged(sent, data)), self.secret_of(data, "signing_secret")

    def update(self, live: LiveWebhook, hook: DesiredWebhook) -> LiveWebhook:
        sent = self._body(hook)
        return self._live(merged({"id": live.id, **sent}, self.call("PATCH", _at(live.id), sent)))

    def delete(self, webhook_id: str) -> None:
        self.api.request("DELETE", _at(webhook_id))

    def rotate(self, live: LiveWebhook, secret: Secret | None) -> Secret:
        return self.secret_of(self.call("POST", f"{_at(live.id)}/signing-secret"), "signing_secret")

    def _body(self, hook: DesiredWebhook) -> JsonObject:
        topics = hook.events if hook.events is not None else self.all_events()  # at least one topic
        return {"name": hook.name, "target": hook.url, "topics": event_list(topics), "paused": not hook.active}

    def _live(self, data: JsonObject) -> LiveWebhook:
        target = data.get("target")
        if not isinstance(target, str):
            raise self.error("a hook in the response has no target")
        return LiveWebhook(
            id=self.ident(data),
            url=target,
            events=self.events_in(data.get("topics")),
            active=not flag(data, "paused", default=False),
            label=text(data, "name"),
            created_at=text(data, "created_at"),
        )
