"""Masked values (contract §5): env-sourced values and URL passwords never appear in any output or saved plan,
a change to them shows as a masked change, and comparing and applying still use the real values."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.e2e.world import World

ENV_URL = "https://hooks.acme.example/env-only-7f3a9c"
ENV_URL_2 = "https://hooks.acme.example/env-only-second-d41e"
ENV_DESCRIPTION = "desc-from-env-Qw93"
PASSWORD, PASSWORD_2 = "pw-Zx81qK", "pw-Second9x"
SENSITIVE = [ENV_URL, ENV_URL_2, "env-only-7f3a9c", "env-only-second-d41e", ENV_DESCRIPTION, PASSWORD, PASSWORD_2]


def basic_url(password: str) -> str:
    return f"https://bob:{password}@hooks.acme.example/basic"


def manifest(world: World, password: str) -> Path:
    env_hook = {"name": "env", "url": "${env:HOOK_URL}"}
    orgs = [
        world.org("acme", "ingate", [env_hook, {"name": "basic", "url": basic_url(password)}]),
        world.org(
            "acme-enc",
            "encrata",
            [{**env_hook, "events": ["credits.low"], "description": "${env:HOOK_DESCRIPTION}"}],
        ),
    ]
    return world.write(orgs)


def assert_nothing_sensitive(world: World, *files: Path) -> None:
    everything = "\n".join(world.outputs + [f.read_text() for f in files])
    for value in SENSITIVE:
        assert value not in everything


def field_rows(plan_json: str) -> list[tuple[str, str, object, object, bool]]:
    doc = json.loads(plan_json)
    return [
        (c["webhook"], f["field"], f["before"], f["after"], f["masked"])
        for o in doc["organizations"]
        for c in o["changes"]
        for f in c["fields"]
    ]


def test_every_output_masks_env_values_and_url_passwords(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_URL", ENV_URL)
    monkeypatch.setenv("HOOK_DESCRIPTION", ENV_DESCRIPTION)
    path = manifest(world, PASSWORD)
    saved = world.tmp / "saved-plan.json"

    assert world.run("validate", path).code == 0
    plan = world.run("plan", path)
    assert 'url: "https://***@hooks.acme.example/basic"' in plan.out
    assert "url: ********" in plan.out and "description: ********" in plan.out
    assert ("env", "url", None, "********", True) in field_rows(world.run("plan", path, "--format", "json").out)
    assert "url: ********" in world.run("plan", path, "--format", "markdown").out
    assert world.run("plan", path, "-o", saved).code == 0
    debug = world.run("plan", path, "--debug")
    assert "GET /" in debug.err  # the HTTP trace was on

    applied = world.run("apply", "--plan", saved, "--debug")
    assert applied.code == 0, applied.text
    # Applying used the real values, taken from the manifests: the saved plan holds none.
    assert {h["url"] for h in world.live("ingate", "acme")} == {ENV_URL, basic_url(PASSWORD)}
    (enc,) = world.live("encrata", "acme-enc")
    assert (enc["url"], enc["description"]) == (ENV_URL, ENV_DESCRIPTION)
    assert world.run("plan", path, "--detailed-exitcode").code == 0
    for fmt in ("text", "json", "markdown"):
        assert world.run("drift", path, "--format", fmt, "--debug").code == 0

    # A change from one secret value to another is a masked change, never a hidden one.
    monkeypatch.setenv("HOOK_URL", ENV_URL_2)
    path = manifest(world, PASSWORD_2)
    changed = world.run("plan", path, "--detailed-exitcode")
    assert changed.code == 2, changed.text
    assert changed.out.count("url: ******** → ********") == 3  # env URL twice, the password change once
    rows = field_rows(world.run("plan", path, "--format", "json", "-o", saved).out)
    assert sorted(r for r in rows if r[1] == "url") == [
        ("basic", "url", "********", "********", True),
        ("env", "url", "********", "********", True),
        ("env", "url", "********", "********", True),
    ]
    assert "url: ******** → ********" in world.run("plan", path, "--format", "markdown").out
    assert world.run("drift", path).code == 2
    assert world.run("apply", path, "--auto-approve", "--debug").code == 0
    assert {h["url"] for h in world.live("ingate", "acme")} == {ENV_URL_2, basic_url(PASSWORD_2)}
    assert world.run("plan", path, "--detailed-exitcode").code == 0

    assert_nothing_sensitive(world, saved)


def test_a_live_url_equal_to_an_env_value_is_masked_as_unmanaged_and_deleted(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_URL", ENV_URL)
    path = world.write([world.org("acme", "ingate", [{"name": "env", "url": "${env:HOOK_URL}"}])])
    assert world.run("apply", path, "--auto-approve").code == 0
    # A second live webhook to the same secret URL, made behind the tool's back.
    created = httpx.post(
        world.sandbox.base_url("ingate", account="acme") + "/api/v1/webhooks",
        json={"url": ENV_URL},
        headers={"Authorization": "Bearer sandbox-token"},
    )
    assert created.status_code == 201
    stranger = created.json()["id"]

    plan = world.run("plan", path)
    assert f"{stranger} ********" in plan.out
    doc = json.loads(world.run("plan", path, "--format", "json").out)
    assert doc["organizations"][0]["unmanaged"] == [{"webhook_id": stranger, "url": "********", "label": None}]

    path = world.write([world.org("acme", "ingate", [{"name": "env", "url": "${env:HOOK_URL}"}], prune=True)])
    rows = field_rows(world.run("plan", path, "--format", "json").out)
    assert rows == [(stranger, "url", "********", None, True)]  # the delete, masked by the planner
    assert "url: ********" in world.run("plan", path).out
    assert_nothing_sensitive(world)


def test_an_env_description_never_rewrites_the_tools_own_words(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 15: with every env value given to the last-line scrubber, an env-sourced description "update"
    turned the summary into `Plan: 0 to create, 0 to ********, 0 to delete.`. Masked by structure (the
    renderer knows the field came from ${env:}), only the field is masked."""
    monkeypatch.setenv("HOOK_DESCRIPTION", "update")
    hook = {"name": "h", "url": "https://hooks.acme.example/h", "events": ["credits.low"]}
    path = world.write([world.org("acme", "encrata", [{**hook, "description": "${env:HOOK_DESCRIPTION}"}])])
    plan = world.run("plan", path)
    assert plan.out.splitlines()[-1] == "Plan: 1 to create, 0 to update, 0 to delete."
    assert '      description: ********' in plan.out.splitlines()
    assert world.run("apply", path, "--auto-approve").out.splitlines()[-1] == (
        "Apply complete: 1 created, 0 updated, 0 deleted."
    )
    (live,) = world.live("encrata", "acme")
    assert live["description"] == "update"  # sent as it is
    world.sandbox.patch_webhook("encrata", live["id"], {"description": "console edit"}, account="acme")
    plan = world.run("plan", path)
    assert plan.out.splitlines()[-1] == "Plan: 0 to create, 1 to update, 0 to delete."
    assert "      description: ******** → ********" in plan.out.splitlines()
    assert "console edit" not in plan.out  # the live side of a masked field is masked too
    rows = field_rows(world.run("plan", path, "--format", "json").out)
    assert rows == [("h", "description", "********", "********", True)]
    markdown = world.run("plan", path, "--format", "markdown").out
    assert "**Plan: 0 to create, 1 to update, 0 to delete.**" in markdown
    quiet = world.run("--quiet", "apply", path, "--auto-approve")
    assert quiet.out.splitlines()[-1] == "Apply complete: 0 created, 1 updated, 0 deleted."
