"""All mutable sandbox state behind one lock: accounts, tokens, variants, faults, requests, secrets."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass
from typing import Any

from reconciler.sandbox.faults import FaultDice, Faults, SlidingWindow
from reconciler.sandbox.registry import SPECS, spec_for
from reconciler.sandbox.state import Account, Context

ROLES: frozenset[str] = frozenset({"admin", "readonly"})


@dataclass(frozen=True)
class RecordedRequest:
    provider: str
    account: str
    method: str
    path: str  # the full request path as sent, without the query string
    query: str
    status: int  # 0: the connection was dropped without an answer (a fault)


class Backend:
    """Every method takes the lock; the router holds it (`backend.lock`) while a handler runs."""

    def __init__(self, token: str) -> None:
        self.lock = threading.RLock()
        self._default_token = token
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.accounts: dict[tuple[str, str], Account] = {}
            self.tokens: dict[str, str] = {self._default_token: "admin"}
            self.variants: dict[str, str] = {}
            self.dice: dict[str, FaultDice] = {name: FaultDice(Faults()) for name in SPECS}
            self.limiter = SlidingWindow()
            self.failing_urls: list[str] = []
            self.recorded: list[RecordedRequest] = []
            self.issued: set[str] = set()

    # -- used by the router, under the lock ------------------------------------------------------
    def account(self, provider: str, name: str) -> Account:
        return self.accounts.setdefault((provider, name), Account())

    def context(self, provider: str, account: str) -> Context:
        return Context(
            account=self.account(provider, account),
            variant=self.variants.get(provider, "reference"),
            keep_secret=self.issued.add,
            delivery_fails=lambda url: any(part in url for part in self.failing_urls),
        )

    def faults(self, provider: str) -> Faults:
        with self.lock:
            return self.dice[provider].faults

    def record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.recorded.append(request)

    # -- the Python and admin APIs --------------------------------------------------------------
    def requests(self) -> list[RecordedRequest]:
        with self.lock:
            return list(self.recorded)

    def clear_requests(self) -> None:
        with self.lock:
            self.recorded.clear()

    def secrets(self) -> set[str]:
        with self.lock:
            return set(self.issued)

    def webhooks(self, provider: str, account: str) -> list[dict[str, Any]]:
        spec_for(provider)
        with self.lock:
            found = self.accounts.get((provider, account))
            return copy.deepcopy(list(found.webhooks.values())) if found else []

    def set_variant(self, provider: str, variant: str) -> None:
        spec = spec_for(provider)
        if variant not in spec.variants:
            raise ValueError(f"{provider} has no variant {variant!r}; expected one of {sorted(spec.variants)}")
        with self.lock:
            self.variants[provider] = variant

    def add_token(self, token: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; expected one of {sorted(ROLES)}")
        with self.lock:
            self.tokens[token] = role

    def revoke_token(self, token: str) -> None:
        with self.lock:
            self.tokens.pop(token, None)

    def set_faults(self, faults: Faults, provider: str | None) -> None:
        names = [spec_for(provider).name] if provider else list(SPECS)
        with self.lock:
            for name in names:
                self.dice[name] = FaultDice(faults)

    def fail_deliveries(self, url_substring: str) -> None:
        with self.lock:
            self.failing_urls.append(url_substring)

    def record_delivery(
        self, provider: str, account: str, webhook_id: str, status: str, event: str | None
    ) -> dict[str, Any]:
        facts = spec_for(provider).facts
        statuses = facts.delivery_statuses
        if not statuses or not facts.events:  # (an API without events keeps no delivery history either)
            raise ValueError(f"{provider} has no delivery history")
        if status not in statuses:
            raise ValueError(f"{provider} delivery status must be one of {sorted(statuses)}")
        with self.lock:
            stored = self.account(provider, account)
            if webhook_id not in stored.webhooks:
                raise KeyError(f"no {provider} webhook {webhook_id!r} in account {account!r}")
            delivery = stored.add_delivery(
                webhook_id,
                event or min(facts.events),
                status,
                response_status={"success": 200, "failed": 500}.get(status),
                error="receiver answered 500" if status == "failed" else None,
            )
            return dict(delivery)

    def patch_webhook(self, provider: str, account: str, webhook_id: str, fields: dict[str, Any]) -> None:
        spec_for(provider)
        with self.lock:
            stored = self.account(provider, account)
            hook = stored.webhooks.get(webhook_id)
            if hook is None:
                raise KeyError(f"no {provider} webhook {webhook_id!r} in account {account!r}")
            hook.update(copy.deepcopy(fields))
            if hook["id"] != webhook_id:  # a new id: the webhook (and its deliveries) now live under it
                stored.webhooks[hook["id"]] = stored.webhooks.pop(webhook_id)
                if webhook_id in stored.deliveries:
                    stored.deliveries[hook["id"]] = stored.deliveries.pop(webhook_id)
