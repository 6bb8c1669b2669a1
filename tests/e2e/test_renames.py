"""Renames without replacement (contract §2 `previously`): same live webhook, same secret, under the new name.

Every provider, on both stores: the plan shows a rename (never a delete and a create, even with prune), apply
keeps the webhook id and the secret, relabels it where the provider has a label, moves the store records
and the index entry, and the next plan is empty.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keyring
import pytest

from tests.e2e.test_lifecycle import PROVIDERS, hook
from tests.e2e.world import VaultView, World

ORG = "acme"
LABELLED = {"infraaudit", "keeptrusts"}  # providers with a label field (contract §3 rule 2)


def renamed(provider: str) -> dict[str, object]:
    return {**hook(provider, name="pager"), "previously": ["alerts"]}


def keyring_store(world: World) -> tuple[dict[str, Any], Callable[[str], Any]]:
    def read(name: str) -> Any:
        value = keyring.get_password(world.service, f"{ORG}/{name}")
        return json.loads(value) if value is not None and name.startswith("_") else value

    return {"desktop": {"type": "keyring", "service": world.service}}, read


def check_rename(world: World, provider: str, write: Callable[[list[dict[str, object]]], Path]) -> tuple[str, str]:
    """Apply `alerts`, rename it to `pager`; returns the live id and the secret (both unchanged)."""
    path = write([hook(provider)])
    assert world.run("apply", path, "--auto-approve").code == 0
    (before,) = world.live(provider, ORG)
    secret = world.current_secret(provider, ORG, before["id"])

    path = write([renamed(provider)])
    plan = world.run("plan", path, "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert f"~ pager (id {before['id']}) renamed from alerts" in plan.out
    assert "Plan: 0 to create, 1 to update, 0 to delete." in plan.out
    as_json = json.loads(world.run("plan", path, "--format", "json").out)
    (change,) = as_json["organizations"][0]["changes"]
    assert (change["action"], change["webhook"], change["renamed_from"]) == ("update", "pager", "alerts")
    expected_fields = [{"field": "name", "before": "alerts", "after": "pager", "masked": False}]
    assert change["fields"] == (expected_fields if provider in LABELLED else [])

    applied = world.run("apply", path, "--auto-approve")
    assert applied.code == 0, applied.text
    assert "renamed from alerts; secret moved to" in applied.out
    (after,) = world.live(provider, ORG)
    assert after["id"] == before["id"]
    assert world.current_secret(provider, ORG, after["id"]) == secret  # the receiver keeps its secret
    if provider in LABELLED:
        assert after["name"] == "pager"
    assert world.run("plan", path, "--detailed-exitcode").code == 0
    drift = world.run("drift", path)
    assert drift.code == 0, drift.text
    return str(before["id"]), secret


@pytest.mark.parametrize("provider", PROVIDERS)
def test_rename_in_the_keyring(world: World, provider: str) -> None:
    stores, read = keyring_store(world)

    def write(webhooks: list[dict[str, object]]) -> Path:
        return world.write([world.org(ORG, provider, webhooks, prune=True)], secret_stores=stores)

    webhook_id, secret = check_rename(world, provider, write)
    assert read("pager") == secret
    assert json.loads(read("pager#meta"))["webhook_id"] == webhook_id
    assert read("alerts") is None and read("alerts#meta") is None
    assert read("_index") == {"pager": {"webhook_id": webhook_id, "protect": False}}


@pytest.mark.parametrize("provider", PROVIDERS)
def test_rename_in_vault(world: World, vault: VaultView, provider: str) -> None:
    def write(webhooks: list[dict[str, object]]) -> Path:
        org = world.org(ORG, provider, webhooks, prune=True, secret_store="team-vault")
        return world.write([org], secret_stores=vault.stores())

    webhook_id, secret = check_rename(world, provider, write)
    record = vault.read(ORG, "pager")
    assert record is not None
    assert (record["secret"], record["webhook_id"]) == (secret, webhook_id)
    assert vault.read(ORG, "alerts") is None
    assert vault.read(ORG, "_index") == {"pager": {"webhook_id": webhook_id, "protect": False}}


def test_rename_found_by_label_without_a_store_record(world: World) -> None:
    """An adopted webhook (never stored, e.g. after `import`) is found by its old label and relabelled."""
    stores, read = keyring_store(world)
    path = world.write([world.org(ORG, "infraaudit", [hook("infraaudit")])], secret_stores=stores)
    assert world.run("apply", path, "--auto-approve").code == 0
    (before,) = world.live("infraaudit", ORG)
    keyring.delete_password(world.service, f"{ORG}/_index")
    keyring.delete_password(world.service, f"{ORG}/alerts")
    keyring.delete_password(world.service, f"{ORG}/alerts#meta")

    path = world.write([world.org(ORG, "infraaudit", [renamed("infraaudit")], prune=True)], secret_stores=stores)
    plan = world.run("plan", path)
    assert "renamed from alerts" in plan.out and "0 to create" in plan.out and "0 to delete" in plan.out
    assert world.run("apply", path, "--auto-approve").code == 0
    (after,) = world.live("infraaudit", ORG)
    assert (after["id"], after["name"]) == (before["id"], "pager")
    assert read("_index") == {"pager": {"webhook_id": before["id"], "protect": False}}
