"""`rotate` and `rotate_after`, user's eye view: a new secret in force at the provider and in the store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import keyring
import pytest

from reconciler.core.model import LiveWebhook
from reconciler.providers.immuta import ImmutaProvider
from tests.e2e.test_lifecycle import hook
from tests.e2e.world import TOKEN_ENV, VaultView, World

ORG = "acme"
PLAN_SCHEMA = Path(__file__).parents[2] / "schemas" / "plan.schema.json"
IN_PLACE = ["keeptrusts", "immuta"]
RECREATE = ["ingate", "infraaudit", "encrata"]


def meta(world: World, webhook: str = "alerts") -> dict[str, Any]:
    text = keyring.get_password(world.service, f"{ORG}/{webhook}#meta")
    assert text is not None
    data: dict[str, Any] = json.loads(text)
    return data


def age_record(world: World, created_at: str = "2020-01-01T00:00:00Z", webhook: str = "alerts") -> None:
    """Make the stored record look old, as if the webhook had been created long ago."""
    keyring.set_password(
        world.service, f"{ORG}/{webhook}#meta", json.dumps({**meta(world, webhook), "created_at": created_at})
    )


def applied(world: World, provider: str, **options: Any) -> tuple[str, dict[str, Any]]:
    path = world.write([world.org(ORG, provider, [{**hook(provider), **options}])])
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 0, result.text
    (live,) = world.live(provider, ORG)
    return str(path), live


def writes(world: World) -> list[str]:
    return [f"{r.method} {r.path}" for r in world.sandbox.requests if r.method != "GET"]


@pytest.mark.parametrize("provider", IN_PLACE)
def test_rotate_in_place_keeps_the_id_and_stores_the_new_secret(world: World, provider: str) -> None:
    path, live = applied(world, provider)
    before, created = world.stored(ORG, "alerts"), meta(world)["created_at"]

    result = world.run("rotate", path, f"{ORG}/alerts")
    assert result.code == 0, result.text
    assert "rotated in place" in result.out
    (after,) = world.live(provider, ORG)
    assert after["id"] == live["id"]
    secret = world.stored(ORG, "alerts")
    assert secret is not None and secret != before
    assert secret == world.current_secret(provider, ORG, live["id"])
    record = meta(world)
    assert record["webhook_id"] == live["id"] and record["created_at"] == created
    assert record["rotated_at"] >= created
    assert world.run("plan", path, "--detailed-exitcode").code == 0
    drift = world.run("drift", path)
    assert drift.code == 0, drift.text


def test_rotate_in_place_on_vault(world: World, vault: VaultView) -> None:
    path = world.write(
        [world.org(ORG, "immuta", [hook("immuta")], secret_store="team-vault")], secret_stores=vault.stores()
    )
    assert world.run("apply", path, "--auto-approve").code == 0
    before = vault.read(ORG, "alerts")
    assert before is not None
    result = world.run("rotate", path, f"{ORG}/alerts")
    assert result.code == 0, result.text
    after = vault.read(ORG, "alerts")
    assert after is not None
    assert after["secret"] != before["secret"]
    assert after["secret"] == world.current_secret("immuta", ORG, before["webhook_id"])
    assert {k: v for k, v in after.items() if k not in ("secret", "rotated_at")} == {
        k: v for k, v in before.items() if k != "secret"
    }
    assert after["rotated_at"].endswith("Z")


def test_immuta_rotation_that_the_api_refuses_keeps_the_old_secret(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, live = applied(world, "immuta")
    before = world.stored(ORG, "alerts")
    # The token is revoked once the webhooks are listed: the PUT of the new key is refused (401).
    world.sandbox.add_token("short-lived-token-1234")
    monkeypatch.setenv(TOKEN_ENV, "short-lived-token-1234")
    listed = ImmutaProvider.list

    def list_then_revoke(self: ImmutaProvider) -> list[LiveWebhook]:
        found = listed(self)
        world.sandbox.revoke_token("short-lived-token-1234")
        return found

    monkeypatch.setattr(ImmutaProvider, "list", list_then_revoke)

    result = world.run("rotate", path, f"{ORG}/alerts")
    assert result.code == 1, result.text
    assert "old one is kept" in result.err
    assert world.stored(ORG, "alerts") == before == world.current_secret("immuta", ORG, live["id"])
    assert "rotated_at" not in meta(world)


@pytest.mark.parametrize(
    ("provider", "flags"), [*((p, []) for p in RECREATE), ("keeptrusts", ["--recreate"]), ("immuta", ["--recreate"])]
)
def test_rotate_re_creates_where_the_api_cannot_rotate_in_place(
    world: World, provider: str, flags: list[str]
) -> None:
    """contract §4: `rotate ORG/WEBHOOK` gives a new signing secret, stored, on every provider; where the API
    cannot change a secret (or with --recreate) that is a new webhook, made before the old one goes."""
    path, live = applied(world, provider)
    before = world.stored(ORG, "alerts")

    result = world.run("rotate", path, f"{ORG}/alerts", *flags)
    assert result.code == 0, result.text
    assert "re-created with a new secret" in result.out
    assert meta(world)["rotated_at"] == meta(world)["created_at"]
    (new,) = world.live(provider, ORG)  # the old webhook is gone
    assert new["id"] != live["id"]
    secret = world.stored(ORG, "alerts")
    assert secret is not None and secret != before
    assert secret == world.current_secret(provider, ORG, new["id"])
    assert meta(world)["webhook_id"] == new["id"]
    assert world.run("plan", path, "--detailed-exitcode").code == 0


@pytest.mark.parametrize("provider", IN_PLACE)
def test_rotate_after_plans_and_applies_an_in_place_rotation(world: World, provider: str) -> None:
    path, live = applied(world, provider, rotate_after="30d")
    assert world.run("plan", path, "--detailed-exitcode").code == 0  # a fresh secret is not due
    before = world.stored(ORG, "alerts")
    age_record(world)

    plan = world.run("plan", path, "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert f"~ alerts (id {live['id']})" in plan.out
    assert 'secret: "set 2020-01-01T00:00:00Z" → "new secret (rotate_after 30d)"' in plan.out
    assert "Plan: 0 to create, 1 to update, 0 to delete." in plan.out
    saved = world.tmp / "plan.json"
    assert world.run("plan", path, "--format", "json", "-o", saved).code == 0
    document = json.loads(saved.read_text())
    jsonschema.Draft202012Validator(json.loads(PLAN_SCHEMA.read_text())).validate(document)
    (change,) = document["organizations"][0]["changes"]
    assert change["action"] == "update"
    assert [f["field"] for f in change["fields"]] == ["secret"]
    markdown = world.run("plan", path, "--format", "markdown")
    assert "rotate_after 30d" in markdown.out

    result = world.run("apply", "--plan", saved)
    assert result.code == 0, result.text
    (after,) = world.live(provider, ORG)
    assert after["id"] == live["id"]
    secret = world.stored(ORG, "alerts")
    assert secret != before and secret == world.current_secret(provider, ORG, live["id"])
    assert meta(world)["created_at"] == "2020-01-01T00:00:00Z" and "rotated_at" in meta(world)
    assert world.run("plan", path, "--detailed-exitcode").code == 0


@pytest.mark.parametrize("provider", IN_PLACE)
def test_a_due_rotation_with_a_url_change_rotates_the_updated_webhook(world: World, provider: str) -> None:
    """One change updates the URL and rotates the secret in place: the record stored with the new secret
    names the new URL, and the provider keeps it (the rotation works on the webhook as updated)."""
    path, live = applied(world, provider, rotate_after="30d")
    age_record(world)
    moved = {**hook(provider), "rotate_after": "30d", "url": f"{hook(provider)['url']}/v2"}
    path = str(world.write([world.org(ORG, provider, [moved])]))
    plan = world.run("plan", path)
    assert "Plan: 0 to create, 1 to update, 0 to delete." in plan.out, plan.text
    assert "secret:" in plan.out and "url:" in plan.out

    result = world.run("apply", path, "--auto-approve")
    assert result.code == 0, result.text
    (after,) = world.live(provider, ORG)
    assert after["id"] == live["id"]
    assert meta(world)["url"] == moved["url"] and "rotated_at" in meta(world)
    assert world.stored(ORG, "alerts") == world.current_secret(provider, ORG, live["id"])
    assert world.run("plan", path, "--detailed-exitcode").code == 0


@pytest.mark.parametrize("provider", RECREATE)
def test_rotate_after_replaces_where_the_api_cannot_rotate(world: World, provider: str) -> None:
    path, live = applied(world, provider, rotate_after="4w")
    age_record(world)

    plan = world.run("plan", path, "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert f"± alerts (id {live['id']})" in plan.out
    assert "Plan: 1 to create, 0 to update, 1 to delete." in plan.out  # a replace is both
    doc = json.loads(world.run("plan", path, "--format", "json").out)
    assert doc["summary"] == {"create": 0, "update": 0, "delete": 0, "replace": 1}  # one change, by action
    table = world.run("plan", path, "--format", "markdown").out
    assert f"| `{ORG}` | {provider} | 1 | 0 | 1 | 0 | changes |" in table
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 0, result.text
    assert "Apply complete: 1 created, 0 updated, 1 deleted." in result.out
    (new,) = world.live(provider, ORG)
    assert new["id"] != live["id"]
    assert world.stored(ORG, "alerts") == world.current_secret(provider, ORG, new["id"])
    assert meta(world)["webhook_id"] == new["id"]
    assert world.run("plan", path, "--detailed-exitcode").code == 0


def test_rotate_after_never_replaces_a_protected_webhook(world: World) -> None:
    path, live = applied(world, "ingate", rotate_after="1d", protect=True)
    age_record(world)
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 3, result.text
    assert "protected" in result.err
    assert world.live("ingate", ORG) == [live]


@pytest.mark.parametrize(("provider", "flags"), [("ingate", []), ("keeptrusts", ["--recreate"])])
def test_rotate_never_re_creates_a_protected_webhook(world: World, provider: str, flags: list[str]) -> None:
    path, live = applied(world, provider, protect=True)
    secret = world.stored(ORG, "alerts")
    world.sandbox.clear_requests()
    result = world.run("rotate", path, f"{ORG}/alerts", *flags)
    assert result.code == 3, result.text
    assert f"{ORG}/alerts is protected" in result.err and "Nothing changed" in result.err
    assert writes(world) == [] and world.live(provider, ORG) == [live] and world.stored(ORG, "alerts") == secret
    if provider == "keeptrusts":  # in place it may rotate: the webhook stays
        assert world.run("rotate", path, f"{ORG}/alerts").code == 0
        assert [w["id"] for w in world.live(provider, ORG)] == [live["id"]]


@pytest.mark.parametrize("provider", ["keeptrusts", "ingate"])
def test_rotate_during_a_rename_keeps_one_record_under_the_new_name(world: World, provider: str) -> None:
    """`previously` declared, not applied yet: the store records are under the earlier name. Rotating
    stores the new secret under the declared name and drops the earlier record, which held a secret no
    webhook uses any more."""
    applied(world, provider)
    created = meta(world)["created_at"]
    path = world.write([world.org(ORG, provider, [{**hook(provider, name="pager"), "previously": ["alerts"]}])])

    flags = [] if provider == "keeptrusts" else ["--recreate"]
    result = world.run("rotate", path, f"{ORG}/pager", *flags)
    assert result.code == 0, result.text
    (live,) = world.live(provider, ORG)
    assert world.stored(ORG, "pager") == world.current_secret(provider, ORG, live["id"])
    assert world.stored(ORG, "alerts") is None
    assert keyring.get_password(world.service, f"{ORG}/alerts#meta") is None
    index = json.loads(keyring.get_password(world.service, f"{ORG}/_index") or "{}")
    assert list(index) == ["pager"] and index["pager"]["webhook_id"] == live["id"]
    if provider == "keeptrusts":
        assert meta(world, "pager")["created_at"] == created  # the same webhook: its record's history goes on

    assert world.run("apply", path, "--auto-approve").code == 0  # what is left: the label, if any
    assert world.run("plan", path, "--detailed-exitcode").code == 0


def test_rotate_of_a_webhook_deleted_behind_the_tools_back_says_so(world: World) -> None:
    path, live = applied(world, "ingate")
    url = f"{world.sandbox.base_url('ingate', account=ORG)}/api/v1/webhooks/{live['id']}"
    assert httpx.delete(url, headers={"Authorization": "Bearer sandbox-token"}).is_success
    result = world.run("rotate", path, f"{ORG}/alerts")
    assert result.code == 1
    assert f"{ORG}/alerts (id {live['id']} in the store) is gone from the provider; apply re-creates it" in result.err
