"""Immuta Request app (`/api/notification/webhook`): client-supplied `signingKey`, `verifyTls`, no events,
no label, no active flag, no get-by-id; its test call tests every configured webhook at once."""

from __future__ import annotations

from typing import ClassVar

from reconciler.core.capabilities import Capabilities
from reconciler.core.model import DesiredWebhook, LiveWebhook, TestResult
from reconciler.core.secret import Secret
from reconciler.providers.capabilities import IMMUTA
from reconciler.providers.translate import Adapter, JsonObject, flag, integer, merged, segment, text

PATH = "/api/notification/webhook"


class ImmutaProvider(Adapter):
    capabilities: ClassVar[Capabilities] = IMMUTA
    forbidden_hint: ClassVar[str] = "permission APPLICATION_ADMIN"

    def list(self) -> list[LiveWebhook]:
        return self.list_at(PATH)

    def get(self, webhook_id: str) -> LiveWebhook | None:
        # The API documents no get-by-id: find it in the list.
        return next((live for live in self.list() if live.id == webhook_id), None)

    def create(self, hook: DesiredWebhook, secret: Secret | None) -> tuple[LiveWebhook, Secret]:
        if secret is None:
            raise self.error("a client-supplied signing key is required to create a webhook")
        sent: JsonObject = {"url": hook.url, "verifyTls": _verify_tls(hook)}
        data = self.call("POST", PATH, {**sent, "signingKey": secret.reveal()})
        # The response's `signingKey` is a boolean ("a key is set"), never the key.
        return self._live(merged(sent, data)), secret

    def update(self, live: LiveWebhook, hook: DesiredWebhook) -> LiveWebhook:
        sent = {"url": hook.url, "verifyTls": _verify_tls(hook)}  # no signingKey: the key stays as it is
        body = self.api.request("PUT", f"{PATH}/{segment(live.id)}", json=sent).body
        kept = {"id": live.id, "suppressed": live.suppressed, "created_at": live.created_at}
        return self._live(merged({**kept, **sent}, body))

    def delete(self, webhook_id: str) -> None:
        self.api.request("DELETE", f"{PATH}/{segment(webhook_id)}")

    def rotate(self, live: LiveWebhook, secret: Secret | None) -> Secret:
        if secret is None:
            raise self.error("rotation needs the new client-supplied signing key")
        self.api.request("PUT", f"{PATH}/{segment(live.id)}", json={"signingKey": secret.reveal()})
        return secret

    def test(self, webhook_id: str) -> TestResult:
        # The test call takes a configuration, not an id, and sends to every configured webhook; the
        # signing key is optional there and only the secret store has it, so it is left out.
        live = self.get(webhook_id)
        if live is None:
            raise self.error(f"webhook {webhook_id} not found")
        sent = {"url": live.url, "verifyTls": live.verify_tls is not False}
        data = self.call("POST", f"{PATH}/test", sent)
        ok = text(data, "status") == "success"
        return TestResult(ok, integer(data, "httpStatusCode"), text(data, "errorMessage"), all_webhooks=True)

    def _live(self, data: JsonObject) -> LiveWebhook:
        return LiveWebhook(
            id=self.ident(data),
            url=self.url_of(data),
            events=None,
            active=True,
            verify_tls=flag(data, "verifyTls", default=True),
            created_at=text(data, "createdAt", "created_at"),
            suppressed=flag(data, "suppressed", default=False),
        )


def _verify_tls(hook: DesiredWebhook) -> bool:
    return hook.verify_tls is not False  # the API's default is true
