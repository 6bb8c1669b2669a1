"""`reconciler import`: a manifest of an account's live webhooks, read with GETs only, that plans to nothing
and applies nothing on every provider."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import yaml

from tests.e2e.world import TOKEN_ENV, World

AUTH = {"Authorization": "Bearer sandbox-token"}

# Webhooks made behind the tool's back, straight through each API: (path, body) per create.
CREATES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "ingate": (
        "/api/v1/webhooks",
        [
            {"url": "https://hooks.acme.example/ingate/finance", "events": ["budget.warning"]},
            {"url": "https://hooks.acme.example/ingate/all"},
            {"url": "https://hooks.acme.example/ingate/all/"},  # a name that needs de-duplicating
        ],
    ),
    "infraaudit": (
        "/api/v1/webhooks",
        [
            {"name": "drift-alerts", "url": "https://hooks.acme.example/ia", "events": ["drift.detected", "ping"]},
            {"name": "paused", "url": "https://hooks.acme.example/ia2", "events": ["ping"], "enabled": False},
        ],
    ),
    "keeptrusts": (
        "/v1/webhooks",
        [
            {"name": "blocked", "url": "https://hooks.acme.example/kt", "events": ["event.blocked"]},
            {"name": "all", "url": "https://hooks.acme.example/kt/all", "events": [], "enabled": False},
        ],
    ),
    "immuta": (
        "/api/notification/webhook",
        [
            {"url": "https://hooks.acme.example/immuta", "verifyTls": True, "signingKey": "k" * 32},
            {"url": "http://hooks.acme.example/immuta-plain", "verifyTls": False, "signingKey": "q" * 32},
        ],
    ),
    "encrata": (
        "/api/webhooks",
        [
            {"url": "https://hooks.acme.example/enc", "events": ["credits.low"], "description": "Credits"},
            {"url": "https://hooks.acme.example/enc2", "events": ["apikey.created", "apikey.revoked"]},
        ],
    ),
}


def create_behind_the_back(world: World, provider: str, org: str) -> None:
    path, bodies = CREATES[provider]
    for body in bodies:
        response = httpx.post(world.sandbox.base_url(provider, account=org) + path, headers=AUTH, json=body)
        assert response.is_success, response.text


def import_args(world: World, provider: str, org: str, *extra: str) -> list[str]:
    base = world.sandbox.base_url(provider, account=org)
    return ["import", "--provider", provider, "--base-url", base, "--token-env", TOKEN_ENV, "--org", org, *extra]


@pytest.mark.parametrize("provider", sorted(CREATES))
def test_import_round_trip(world: World, provider: str) -> None:
    org = f"imported-{provider}"
    create_behind_the_back(world, provider, org)
    before = world.live(provider, org)
    manifest = world.tmp / "imported.yaml"

    world.sandbox.clear_requests()
    result = world.run(*import_args(world, provider, org, "--secret-store", "desktop", "-o", str(manifest)))
    assert result.code == 0, result.text
    assert {r.method for r in world.sandbox.requests} == {"GET"}
    assert f"{len(before)} webhook(s) of {org}" in result.out

    doc = yaml.safe_load(manifest.read_text())
    assert doc["version"] == 1
    assert doc["secret_stores"] == {"desktop": {"type": "keyring"}}
    (entry,) = doc["organizations"]
    assert (entry["name"], entry["provider"], entry["secret_store"]) == (org, provider, "desktop")
    assert entry["token"] == "${env:" + TOKEN_ENV + "}"
    assert len(entry["webhooks"]) == len(before)
    assert world.run("validate", manifest).code == 0

    plan = world.run("plan", manifest, "--detailed-exitcode")
    assert plan.code == 0, plan.text
    world.sandbox.clear_requests()
    applied = world.run("apply", manifest, "--auto-approve")
    assert applied.code == 0, applied.text
    assert "No changes" in applied.out
    assert {r.method for r in world.sandbox.requests} == {"GET"}
    assert world.live(provider, org) == before


def test_import_to_stdout_without_a_store(world: World) -> None:
    create_behind_the_back(world, "infraaudit", "acme")
    result = world.run(*import_args(world, "infraaudit", "acme"))
    assert result.code == 0, result.text
    doc = yaml.safe_load(result.out)
    assert set(doc) == {"version", "organizations"}
    (entry,) = doc["organizations"]
    assert "secret_store" not in entry
    names = [w["name"] for w in entry["webhooks"]]
    assert "drift-alerts" in names and "paused" in names
    (paused,) = [w for w in entry["webhooks"] if w["name"] == "paused"]
    assert paused["active"] is False


def test_import_errors_are_clear(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UNSET_TOKEN", raising=False)
    unset = world.run("import", "--provider", "ingate", "--base-url", world.sandbox.url, "--token-env", "UNSET_TOKEN")
    assert unset.code == 1 and "UNSET_TOKEN is not set" in unset.err
    no_url = world.run("import", "--provider", "keeptrusts", "--token-env", TOKEN_ENV)
    assert no_url.code == 1 and "give --base-url" in no_url.err
    bad_name = world.run(*import_args(world, "ingate", "_reserved"))
    assert bad_name.code == 1 and "must match" in bad_name.err
    monkeypatch.setenv("WRONG_TOKEN", "wrong-token-value")
    denied = world.run(
        "import", "--provider", "ingate", "--base-url", world.sandbox.base_url("ingate"), "--token-env", "WRONG_TOKEN"
    )
    assert denied.code == 1 and "Traceback" not in denied.text
    assert "wrong-token-value" not in denied.text


def test_labels_that_are_not_names_are_renamed_in_place_and_said_so(world: World) -> None:
    """A label that is no valid name (or none, on Keeptrusts) cannot survive: the first apply sets it to the
    name import chose. That is an update in place, never a replacement, and the manifest says so."""
    base = world.sandbox.base_url("keeptrusts", account="acme") + "/v1/webhooks"
    for body in ({"url": "https://hooks.acme.example/a"}, {"name": "bad name!", "url": "https://hooks.acme.example/b"}):
        assert httpx.post(base, headers=AUTH, json=body).status_code == 201
    manifest = world.tmp / "imported.yaml"
    assert world.run(*import_args(world, "keeptrusts", "acme", "-o", str(manifest))).code == 0
    text = manifest.read_text()
    assert "2 webhook(s) get a new name" in text
    before = {h["id"] for h in world.live("keeptrusts", "acme")}

    plan = world.run("plan", manifest, "--detailed-exitcode")
    assert plan.code == 2 and "Plan: 0 to create, 2 to update, 0 to delete." in plan.out
    assert world.run("apply", manifest, "--auto-approve").code == 0
    assert {h["id"] for h in world.live("keeptrusts", "acme")} == before
    assert world.run("plan", manifest, "--detailed-exitcode").code == 0


def test_a_label_two_webhooks_share_names_neither(world: World) -> None:
    """Identity rule 2 would find both webhooks by a shared label: import names them from their URLs, so the
    imported manifest plans (two relabels in place) instead of failing as ambiguous."""
    base = world.sandbox.base_url("infraaudit", account="acme") + "/api/v1/webhooks"
    for body in (
        {"name": "dup", "url": "https://hooks.acme.example/a", "events": ["drift.detected"]},
        {"name": "dup", "url": "https://hooks.acme.example/b", "events": ["drift.detected"]},
        # Its label is the name the first one's URL would give: that name is taken.
        {"name": "hooks.acme.example-a", "url": "https://hooks.acme.example/z", "events": ["drift.detected"]},
        {"name": "c", "url": "https://hooks.acme.example/c", "events": ["drift.detected"]},
    ):
        assert httpx.post(base, headers=AUTH, json=body).status_code == 201
    manifest = world.tmp / "imported.yaml"
    assert world.run(*import_args(world, "infraaudit", "acme", "-o", str(manifest))).code == 0
    names = [h["name"] for h in yaml.safe_load(manifest.read_text())["organizations"][0]["webhooks"]]
    assert sorted(names) == ["c", "hooks.acme.example-a", "hooks.acme.example-a-2", "hooks.acme.example-b"]
    assert "2 webhook(s) get a new name" in manifest.read_text()
    before = {h["id"] for h in world.live("infraaudit", "acme")}

    plan = world.run("plan", manifest, "--detailed-exitcode")
    assert plan.code == 2 and "Plan: 0 to create, 2 to update, 0 to delete." in plan.out, plan.text
    assert world.run("apply", manifest, "--auto-approve").code == 0
    assert {h["id"] for h in world.live("infraaudit", "acme")} == before
    assert world.run("plan", manifest, "--detailed-exitcode").code == 0


def test_a_url_with_credentials_is_imported_as_an_env_reference(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    org = "creds"
    secret_url = "https://svc:hunter2-pw@hooks.acme.example/ingate/creds"
    base = world.sandbox.base_url("ingate", account=org)
    assert httpx.post(f"{base}/api/v1/webhooks", headers=AUTH, json={"url": secret_url}).is_success
    manifest = world.tmp / "imported.yaml"
    result = world.run(*import_args(world, "ingate", org, "--secret-store", "desktop", "-o", str(manifest)))
    assert result.code == 0, result.text
    text = manifest.read_text()
    assert "hunter2" not in text and "svc:" not in text
    (hook,) = yaml.safe_load(text)["organizations"][0]["webhooks"]
    assert hook["url"] == "${env:CREDS_HOOKS_ACME_EXAMPLE_INGATE_CREDS_URL}"
    assert "set CREDS_HOOKS_ACME_EXAMPLE_INGATE_CREDS_URL" in text

    monkeypatch.setenv("CREDS_HOOKS_ACME_EXAMPLE_INGATE_CREDS_URL", secret_url)
    plan = world.run("plan", str(manifest), "--detailed-exitcode")
    assert plan.code == 0, plan.text
    assert "hunter2" not in plan.text


def test_a_webhook_subscribed_to_no_event_is_imported_with_every_event_and_said_so(world: World) -> None:
    """Encrata's SDK replaces the whole object on PUT: one sent without `events` leaves a webhook with none,
    which a manifest cannot declare (Encrata needs at least one event)."""
    world.sandbox.set_variant("encrata", "sdk")
    base = world.sandbox.base_url("encrata", account="acme") + "/api/webhooks"
    made = httpx.post(base, headers=AUTH, json={"url": "https://hooks.acme.example/e", "events": ["credits.low"]})
    assert made.status_code == 201
    put = httpx.put(base, headers=AUTH, json={"id": made.json()["id"], "url": "https://hooks.acme.example/e"})
    assert put.status_code < 300 and world.live("encrata", "acme")[0]["events"] == []
    manifest = world.tmp / "imported.yaml"
    assert world.run(*import_args(world, "encrata", "acme", "-o", str(manifest))).code == 0
    assert "1 webhook(s) are subscribed to no event" in manifest.read_text()
    assert world.run("validate", manifest).code == 0

    plan = world.run("plan", manifest, "--detailed-exitcode")
    assert plan.code == 2 and "events: [] (no events) → [" in plan.out, plan.text
    assert world.run("apply", manifest, "--auto-approve").code == 0
    assert world.live("encrata", "acme")[0]["events"] != []
    assert world.run("plan", manifest, "--detailed-exitcode").code == 0


def test_import_never_writes_a_reference(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Anyone who can edit a webhook in a vendor console can write `${env:NAME}` into it. Imported as written,
    the next plan would fill in the CI's NAME and send it to the provider and, in a URL, to the receiver with
    every event. Import writes `$${` (a literal `${`): planning with NAME set sends nothing and changes nothing."""
    org = "hostile"
    url = "https://hooks.acme.example/enc?k=${env:SECRET_X}"
    description = "${env:SECRET_X}, $${env:SECRET_X} and ${var:team}"
    base = world.sandbox.base_url("encrata", account=org) + "/api/webhooks"
    body = {"url": url, "events": ["credits.low"], "description": description}
    assert httpx.post(base, headers=AUTH, json=body).status_code == 201
    before = world.live("encrata", org)
    manifest = world.tmp / "imported.yaml"
    assert world.run(*import_args(world, "encrata", org, "--secret-store", "desktop", "-o", str(manifest))).code == 0
    (hook,) = yaml.safe_load(manifest.read_text())["organizations"][0]["webhooks"]
    assert hook["url"] == "https://hooks.acme.example/enc?k=$${env:SECRET_X}"
    assert hook["description"] == "$${env:SECRET_X}, $$${env:SECRET_X} and $${var:team}"

    secret = "ci-secret-value-Qx81"
    monkeypatch.setenv("SECRET_X", secret)
    world.watch.append(secret)
    world.sandbox.clear_requests()
    plan = world.run("plan", manifest, "--detailed-exitcode")
    assert plan.code == 0, plan.text
    applied = world.run("apply", manifest, "--auto-approve")
    assert applied.code == 0 and "No changes" in applied.out, applied.text
    requests = world.sandbox.requests
    assert {r.method for r in requests} == {"GET"}
    assert not any(secret in r.path + r.query for r in requests)
    assert world.live("encrata", org) == before
    world.assert_no_secret_leaked()
