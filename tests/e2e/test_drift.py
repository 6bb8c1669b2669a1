"""`reconciler drift`: exit 0 in sync, 2 drifted, 1 when an org cannot be read (the others still reported);
delivery health always reported, an exit code only with --fail-on-delivery-errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import keyring
import pytest

from tests.e2e.world import World

ROOT = Path(__file__).resolve().parents[2]
EVENTS = {
    "ingate": None,
    "infraaudit": ["drift.detected"],
    "keeptrusts": ["event.blocked"],
    "immuta": None,
    "encrata": ["credits.low"],
}


def hook(provider: str, name: str = "alerts") -> dict[str, Any]:
    spec: dict[str, Any] = {"name": name, "url": f"https://hooks.acme.example/{provider}/{name}"}
    if EVENTS[provider]:
        spec["events"] = EVENTS[provider]
    return spec


def drift_json(world: World, *args: str | Path) -> tuple[int, dict[str, Any]]:
    result = world.run("drift", *args, "--format", "json")
    doc: dict[str, Any] = json.loads(result.out)
    validator = jsonschema.Draft202012Validator(json.loads((ROOT / "schemas" / "drift.schema.json").read_text()))
    validator.validate(doc)
    return result.code, doc


def org_doc(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = [o for o in doc["organizations"] if o["name"] == name]
    assert len(found) == 1
    return found[0]


def applied(world: World, orgs: list[dict[str, Any]]) -> Path:
    manifest = world.write(orgs)
    result = world.run("apply", manifest, "--auto-approve")
    assert result.code == 0, result.text
    return manifest


def test_in_sync_is_exit_0_in_every_format(world: World) -> None:
    manifest = applied(world, [world.org(f"acme-{p}", p, [hook(p)]) for p in EVENTS])
    world.sandbox.clear_requests()
    code, doc = drift_json(world, manifest)
    assert code == 0
    assert doc["in_sync"] is True
    assert {o["status"] for o in doc["organizations"]} == {"in_sync"}
    assert all(w["secret"] == "stored" for o in doc["organizations"] for w in o["webhooks"])
    text = world.run("drift", manifest)
    assert text.code == 0 and "No drift: 5 organization(s) in sync." in text.out
    markdown = world.run("drift", manifest, "--format", "markdown")
    assert markdown.code == 0 and "No drift" in markdown.out
    assert {r.method for r in world.sandbox.requests} == {"GET"}  # drift never writes


def test_config_changed_out_of_band_is_drift(world: World) -> None:
    manifest = applied(world, [world.org("acme", "infraaudit", [hook("infraaudit")])])
    (live,) = world.live("infraaudit", "acme")
    world.sandbox.patch_webhook("infraaudit", live["id"], {"events": ["cost.anomaly"]}, account="acme")
    code, doc = drift_json(world, manifest)
    assert code == 2
    acme = org_doc(doc, "acme")
    assert acme["status"] == "drifted"
    (change,) = acme["changes"]
    assert change["action"] == "update" and change["fields"][0]["field"] == "events"
    text = world.run("drift", manifest)
    assert text.code == 2 and "Drift: 1 of 1 organization(s) differ" in text.out


@pytest.mark.parametrize("mode", ["report", "ignore"])
def test_unmanaged_webhook_is_drift_unless_ignored(world: World, mode: str) -> None:
    manifest = applied(world, [world.org("acme", "ingate", [hook("ingate")], unmanaged=mode)])
    response = httpx.post(
        world.sandbox.base_url("ingate", account="acme") + "/api/v1/webhooks",
        headers={"Authorization": "Bearer sandbox-token"},
        json={"url": "https://hooks.acme.example/stranger"},
    )
    assert response.status_code == 201
    code, doc = drift_json(world, manifest)
    acme = org_doc(doc, "acme")
    assert [u["url"] for u in acme["unmanaged"]] == ["https://hooks.acme.example/stranger"]
    if mode == "report":
        assert (code, acme["status"], doc["summary"]["unmanaged"]) == (2, "drifted", 1)
    else:
        assert (code, acme["status"], doc["summary"]["unmanaged"]) == (0, "in_sync", 0)
        assert acme["unmanaged_ignored"] is True
        assert "ignored (unmanaged: ignore)" in world.run("drift", manifest).out


def test_missing_secret_is_drift(world: World) -> None:
    manifest = applied(world, [world.org("acme", "keeptrusts", [hook("keeptrusts")])])
    keyring.delete_password(world.service, "acme/alerts")
    code, doc = drift_json(world, manifest)
    assert code == 2
    (webhook,) = org_doc(doc, "acme")["webhooks"]
    assert webhook["secret"] == "missing"
    assert doc["summary"]["secrets_not_stored"] == 1
    assert "secret missing" in world.run("drift", manifest).out


def test_stale_secret_is_drift(world: World) -> None:
    """The record names a webhook id that is no longer the live one (re-created behind the tool's back)."""
    manifest = applied(world, [world.org("acme", "infraaudit", [hook("infraaudit")])])
    (live,) = world.live("infraaudit", "acme")
    base = world.sandbox.base_url("infraaudit", account="acme") + "/api/v1/webhooks"
    auth = {"Authorization": "Bearer sandbox-token"}
    assert httpx.delete(f"{base}/{live['id']}", headers=auth).status_code == 204
    created = httpx.post(base, headers=auth, json={"name": "alerts", "url": live["url"], "events": live["events"]})
    assert created.status_code == 201
    code, doc = drift_json(world, manifest)
    assert code == 2
    (webhook,) = org_doc(doc, "acme")["webhooks"]
    assert webhook["secret"] == "stale" and webhook["webhook_id"] == created.json()["id"]


def test_unreadable_org_is_exit_1_and_the_others_are_still_reported(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BAD_TOKEN", "not-a-valid-token")
    good = world.org("good", "ingate", [hook("ingate")])
    manifest = applied(world, [good])
    (live,) = world.live("ingate", "good")
    world.sandbox.patch_webhook("ingate", live["id"], {"url": "https://elsewhere.example/x"}, account="good")
    bad = world.org("locked-out", "encrata", [hook("encrata")], token="${env:BAD_TOKEN}")
    manifest = world.write([good, bad])

    code, doc = drift_json(world, manifest)
    assert code == 1
    assert org_doc(doc, "locked-out")["status"] == "error"
    assert "401" in org_doc(doc, "locked-out")["error"] or "token" in org_doc(doc, "locked-out")["error"]
    assert org_doc(doc, "good")["status"] == "drifted"
    text = world.run("drift", manifest)
    assert text.code == 1
    assert "good (ingate)" in text.out and "Could not check 1 organization(s): locked-out." in text.out
    assert "error: locked-out:" in text.err
    assert "not-a-valid-token" not in text.text


def test_revoked_token_is_exit_1(world: World) -> None:
    manifest = applied(world, [world.org("acme", "immuta", [hook("immuta")])])
    world.sandbox.revoke_token("sandbox-token")
    code, doc = drift_json(world, manifest)
    assert code == 1 and doc["in_sync"] is False and doc["summary"]["errors"] == 1


def fail_last_delivery(world: World, provider: str, org: str, webhook_id: str) -> None:
    if provider == "immuta":
        world.sandbox.patch_webhook("immuta", webhook_id, {"suppressed": True}, account=org)
    else:
        world.sandbox.record_delivery(provider, org, webhook_id, "success")
        world.sandbox.record_delivery(provider, org, webhook_id, "failed")


@pytest.mark.parametrize("provider", ["infraaudit", "keeptrusts", "immuta", "encrata"])
def test_failing_deliveries_are_reported_and_fail_only_on_request(world: World, provider: str) -> None:
    manifest = applied(world, [world.org("acme", provider, [hook(provider)])])
    (live,) = world.live(provider, "acme")
    fail_last_delivery(world, provider, "acme", live["id"])

    code, doc = drift_json(world, manifest)
    assert code == 0
    (webhook,) = org_doc(doc, "acme")["webhooks"]
    assert webhook["delivery"] == "failing" and webhook["delivery_detail"]
    assert doc["summary"]["delivery_failures"] == 1 and doc["in_sync"] is True
    assert "deliveries failing" in world.run("drift", manifest).out
    assert "deliveries failing" in world.run("drift", manifest, "--format", "markdown").out

    strict = world.run("drift", manifest, "--fail-on-delivery-errors")
    assert strict.code == 2, strict.text
    code, doc = drift_json(world, manifest, "--fail-on-delivery-errors")
    assert code == 2 and org_doc(doc, "acme")["status"] == "drifted"


def test_delivery_that_recovered_is_ok(world: World) -> None:
    manifest = applied(world, [world.org("acme", "encrata", [hook("encrata")])])
    (live,) = world.live("encrata", "acme")
    world.sandbox.record_delivery("encrata", "acme", live["id"], "failed")
    world.sandbox.record_delivery("encrata", "acme", live["id"], "success")
    code, doc = drift_json(world, manifest, "--fail-on-delivery-errors")
    assert code == 0
    assert org_doc(doc, "acme")["webhooks"][0]["delivery"] == "ok"


def test_test_event_to_failing_receiver_shows_in_drift(world: World) -> None:
    manifest = applied(world, [world.org("acme", "keeptrusts", [hook("keeptrusts")])])
    world.sandbox.fail_deliveries("/keeptrusts/alerts")
    assert world.run("test", manifest, "acme/alerts").code == 1
    code, doc = drift_json(world, manifest, "--fail-on-delivery-errors")
    assert code == 2
    assert org_doc(doc, "acme")["webhooks"][0]["delivery"] == "failing"


def test_drift_writes_the_json_report_with_o(world: World) -> None:
    manifest = applied(world, [world.org("acme", "ingate", [hook("ingate")])])
    report = world.tmp / "drift.json"
    result = world.run("drift", manifest, "--format", "markdown", "-o", report)
    assert result.code == 0
    assert result.out.startswith("<!-- webhook-reconciler:drift:default -->\n### webhook-reconciler drift")
    assert json.loads(report.read_text())["kind"] == "drift"
