"""Rotation, test sends and delivery logs of each adapter against its emulator."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from reconciler.core.errors import ProviderError
from reconciler.core.secret import Secret
from reconciler.plugins import open_provider
from reconciler.sandbox import Sandbox
from tests.providers.conftest import Opener
from tests.providers.test_contract import CASES, client_secret, stored_secret


def test_keeptrusts_rotate_secret_in_place(sandbox: Sandbox, opener: Opener) -> None:
    api = opener("keeptrusts")
    live, old = api.create(CASES["keeptrusts"][0], None)
    new = api.rotate(live, None)
    assert new != old and new.reveal() == stored_secret(sandbox, "keeptrusts", live.id)
    assert [w.id for w in api.list()] == [live.id]


def test_keeptrusts_create_with_client_secret(sandbox: Sandbox, opener: Opener) -> None:
    chosen = Secret.generate()
    live, secret = opener("keeptrusts").create(CASES["keeptrusts"][0], chosen)
    assert secret == chosen and stored_secret(sandbox, "keeptrusts", live.id) == chosen.reveal()


def test_immuta_rotate_puts_the_new_signing_key(sandbox: Sandbox, opener: Opener) -> None:
    api = opener("immuta")
    live, old = api.create(CASES["immuta"][0], Secret.generate())
    new = Secret.generate()
    assert api.rotate(live, new) == new != old
    assert stored_secret(sandbox, "immuta", live.id) == new.reveal()
    [after] = api.list()
    assert after.url == live.url and after.verify_tls is False


@pytest.mark.parametrize("provider", ["ingate", "infraaudit", "encrata"])
def test_rotation_unsupported(opener: Opener, provider: str) -> None:
    api = opener(provider)
    live, _ = api.create(CASES[provider][0], client_secret(provider))
    with pytest.raises(ProviderError, match="does not support in-place rotation"):
        api.rotate(live, None)


@pytest.mark.parametrize("provider", ["infraaudit", "keeptrusts", "encrata"])
def test_test_send_and_its_delivery(sandbox: Sandbox, opener: Opener, provider: str) -> None:
    api = opener(provider)
    good, _ = api.create(CASES[provider][0], None)
    bad, _ = api.create(CASES[provider][1], None)
    sandbox.fail_deliveries(CASES[provider][1].url)
    ok = api.test(good.id)
    assert ok.ok and not ok.all_webhooks
    failed = api.test(bad.id)
    # Encrata answers {"status": "sent"} before the receiver does: only its delivery log tells.
    assert failed.ok is (provider == "encrata")
    [delivery] = api.deliveries(bad.id)
    assert delivery.status == "failed" and delivery.response_status == 500 and delivery.created_at
    assert [d.status for d in api.deliveries(good.id)] == ["success"]


def test_immuta_test_covers_all_webhooks(sandbox: Sandbox, opener: Opener) -> None:
    api = opener("immuta")
    live, _ = api.create(CASES["immuta"][0], Secret.generate())
    result = api.test(live.id)
    assert result.ok and result.all_webhooks and result.status_code == 200
    sandbox.fail_deliveries("hooks.internal")
    assert not api.test(live.id).ok
    with pytest.raises(ProviderError, match="not found"):
        api.test("0b9e2b8e-0000-4000-8000-000000000000")


def test_ingate_has_no_test_endpoint(opener: Opener) -> None:
    with pytest.raises(ProviderError, match="no test endpoint"):
        opener("ingate").test("any")


@pytest.mark.parametrize("provider", ["ingate", "immuta"])
def test_no_delivery_log_means_empty_without_a_request(sandbox: Sandbox, opener: Opener, provider: str) -> None:
    assert opener(provider).deliveries("any") == []
    assert sandbox.requests == []


def test_infraaudit_deliveries_keep_the_last_100_over_pages(sandbox: Sandbox, opener: Opener) -> None:
    api = opener("infraaudit")
    live, _ = api.create(CASES["infraaudit"][0], None)
    for n in range(120):
        sandbox.record_delivery("infraaudit", "default", live.id, "failed" if n % 2 else "success")
    sandbox.clear_requests()
    found = api.deliveries(live.id)
    assert len(found) == 100 and len({d.id for d in found}) == 100
    assert len(sandbox.requests) == 2


class TwentyPerPage(BaseHTTPRequestHandler):
    """An InfraAudit delivery log of 60 attempts that serves at most 20 per page, whatever per_page asks."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        page = int(query.get("page", ["1"])[0])
        self.server.pages.append(page)  # type: ignore[attr-defined]
        items = [
            {"id": f"del_{n}", "event": "drift.detected", "attempt": 1, "status": "success", "response_status": 200,
             "response_time_ms": 5, "created_at": "2026-11-25T00:00:00Z"}
            for n in range(60)
        ][(page - 1) * 20 : page * 20]
        body = json.dumps(items).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


def test_infraaudit_deliveries_page_on_when_the_server_serves_fewer_than_asked() -> None:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), TwentyPerPage)
    server.daemon_threads, server.pages = True, []
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        api = open_provider("infraaudit", f"http://127.0.0.1:{server.server_port}", Secret("t"), read_only=True)
        found = api.deliveries("wh_1")
    finally:
        server.shutdown()
        server.server_close()
    assert [d.id for d in found] == [f"del_{n}" for n in range(60)]
    assert server.pages == [1, 2, 3, 4]  # the fourth, empty page shows the end


def test_infraaudit_last_delivery_status_is_listed(sandbox: Sandbox, opener: Opener) -> None:
    api = opener("infraaudit")
    live, _ = api.create(CASES["infraaudit"][0], None)
    sandbox.record_delivery("infraaudit", "default", live.id, "failed")
    [listed] = api.list()
    assert listed.last_delivery_status == "failed"


def test_immuta_suppressed_is_read(sandbox: Sandbox, opener: Opener) -> None:
    api = opener("immuta")
    live, _ = api.create(CASES["immuta"][0], Secret.generate())
    sandbox.patch_webhook("immuta", live.id, {"suppressed": True})
    [listed] = api.list()
    assert listed.suppressed
