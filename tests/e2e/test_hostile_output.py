"""Provider text is hostile (contract §6): whoever can edit a webhook in a vendor console writes its label, URL
and description, and a vendor (or whoever sits between) writes ids and error messages. Each test here plants
such text in the live sandbox (or serves it from a small hostile server) and runs the real CLI: nothing of it
may act on a terminal (escape sequences, a forged `Plan: …` line) or become markup in a comment."""

from __future__ import annotations

import json
import threading
import unicodedata
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.e2e.world import World
from tests.render.dom import foreign

FORGED = "Plan: 0 to create, 0 to update, 0 to delete."
# Retitle the terminal (OSC 0), clear it (CSI 2J), return to column 0, then a line of its own; C1 CSI, a
# bidi override and a zero-width space that reorder or hide text; markdown that would close a code span and
# inject a heading, an image, a link, a mention and raw HTML.
TERMINAL_ATTACK = f"x\x1b]0;pwned\x07\x1b[2J\r\n{FORGED}\n\x9b31m\u202eevil\u200b\x7f"
MARKDOWN_ATTACK = "`` ` \n\n# Injected\n\n![img](https://evil.example/i.png) @everyone <img src=x onerror=alert(1)> [l](https://evil.example)"
HOSTILE = TERMINAL_ATTACK + MARKDOWN_ATTACK


def assert_inert(text: str) -> None:
    """No character that acts on a terminal, and no line the provider's text made."""
    acting = sorted({ch for ch in text if ch != "\n" and not (ch.isprintable() or unicodedata.category(ch) == "Zs")})
    assert acting == [], f"control characters reached the output: {acting!r}"
    starts = [line.lstrip() for line in text.splitlines()]
    assert sum(line.startswith("Plan:") for line in starts) <= 1, text  # the tool's own summary, if any
    assert not any(line.startswith("# Injected") for line in starts), text


def assert_inert_markdown(text: str, kind: str) -> None:
    assert text.startswith(f"<!-- webhook-reconciler:{kind}:default -->\n")
    assert_inert(text)
    assert foreign(text) == [], text


def keeptrusts_hook(name: str) -> dict[str, Any]:
    return {"name": name, "url": f"https://hooks.acme.example/{name}", "events": ["event.blocked"]}


@pytest.fixture
def hostile_live(world: World) -> Path:
    """An org whose managed webhook's URL and label, and an unmanaged webhook's id, label and URL, were
    rewritten in the vendor's console; returns the manifest that now declares only the managed one."""
    both = world.write([world.org("acme", "keeptrusts", [keeptrusts_hook("good"), keeptrusts_hook("stranger")])])
    assert world.run("apply", both, "--auto-approve").code == 0
    live = {h["name"]: h for h in world.live("keeptrusts", "acme")}
    good_url = {"url": "https://h.example/" + HOSTILE}
    world.sandbox.patch_webhook("keeptrusts", live["good"]["id"], good_url, account="acme")
    world.sandbox.patch_webhook(
        "keeptrusts",
        live["stranger"]["id"],
        {"id": "id-" + HOSTILE, "name": HOSTILE, "url": "https://u.example/" + HOSTILE},
        account="acme",
    )
    return world.write([world.org("acme", "keeptrusts", [keeptrusts_hook("good")])])


def test_plan_and_drift_text_show_hostile_live_values_escaped(world: World, hostile_live: Path) -> None:
    plan = world.run("plan", hostile_live)
    assert plan.code == 0, plan.text
    assert_inert(plan.text)
    assert plan.out.splitlines()[-1] == "Plan: 0 to create, 1 to update, 0 to delete."
    assert "id-x\\x1b]0;pwned\\x07\\x1b[2J\\r\\nPlan: 0 to create" in plan.out  # shown, escaped, on its line
    assert "\\u202eevil\\u200b\\x7f" in plan.out
    drift = world.run("drift", hostile_live)
    assert drift.code == 2
    assert_inert(drift.text)


def test_markdown_keeps_hostile_live_values_inside_code(world: World, hostile_live: Path) -> None:
    plan = world.run("plan", hostile_live, "--format", "markdown")
    assert plan.code == 0, plan.text
    assert_inert_markdown(plan.out, "plan")
    drift = world.run("drift", hostile_live, "--format", "markdown")
    assert drift.code == 2
    assert_inert_markdown(drift.out, "drift")


def test_drift_markdown_keeps_a_hostile_id_inside_code(world: World) -> None:
    """The reported attack: a live id with backticks and line breaks, in drift's note that the stored secret
    belongs to another id (Ingate finds the webhook again by its URL)."""
    path = world.write([world.org("acme", "ingate", [{"name": "good", "url": "https://hooks.acme.example/g"}])])
    assert world.run("apply", path, "--auto-approve").code == 0
    (live,) = world.live("ingate", "acme")
    world.sandbox.patch_webhook("ingate", live["id"], {"id": HOSTILE}, account="acme")
    drift = world.run("drift", path, "--format", "markdown")
    assert drift.code == 2, drift.text
    assert "secret stale" in drift.out
    assert_inert_markdown(drift.out, "drift")
    assert_inert(world.run("drift", path).text)


def test_apply_report_shows_hostile_ids_escaped(world: World, hostile_live: Path) -> None:
    pruning = world.write([world.org("acme", "keeptrusts", [keeptrusts_hook("good")], prune=True)])
    result = world.run("apply", pruning, "--auto-approve", "--allow-deletes")
    assert_inert(result.text)
    assert "id-x\\x1b]0;pwned" in result.text  # the delete of the unmanaged webhook names its id, escaped


class _Hostile(BaseHTTPRequestHandler):
    """Every request answered 400 with the hostile text as the vendor's error message."""

    def do_GET(self) -> None:
        body = json.dumps({"error": HOSTILE, "message": HOSTILE}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def hostile_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_vendor_error_message_is_escaped_on_stdout_and_stderr(world: World, hostile_api: str, fmt: str) -> None:
    org = world.org("acme", "keeptrusts", [keeptrusts_hook("good")])
    org["base_url"] = hostile_api
    result = world.run("plan", world.write([org]), "--format", fmt)
    assert result.code == 1
    assert "Bad Request" in result.err or "400" in result.err
    assert_inert(result.err)
    if fmt == "markdown":
        assert_inert_markdown(result.out, "plan")
    else:
        assert_inert(result.out)


def test_import_writes_hostile_values_escaped_and_exact(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    path = world.write([world.org("acme", "encrata", [{**keeptrusts_hook("good"), "events": ["credits.low"]}])])
    assert world.run("apply", path, "--auto-approve").code == 0
    (live,) = world.live("encrata", "acme")
    world.sandbox.patch_webhook("encrata", live["id"], {"description": HOSTILE}, account="acme")
    monkeypatch.setenv("IMPORT_TOKEN", "sandbox-token")
    base = world.sandbox.base_url("encrata", account="acme")
    result = world.run("import", "--provider", "encrata", "--base-url", base, "--token-env", "IMPORT_TOKEN")
    assert result.code == 0, result.text
    assert_inert(result.out)
    (hook,) = yaml.safe_load(result.out)["organizations"][0]["webhooks"]
    assert hook["description"] == HOSTILE  # escaped as YAML escapes, read back as written
