"""GitOps: a saved plan is applied exactly, or refused as stale with nothing changed; mass deletes and
protected webhooks are refused (exit 3) before any change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]
import pytest

from tests.e2e.world import World

ROOT = Path(__file__).resolve().parents[2]
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def hook(name: str, path: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name, "url": f"https://hooks.acme.example/{path or name}", **extra}


def ia_hook(name: str, path: str | None = None, **extra: Any) -> dict[str, Any]:
    return hook(name, path, events=["drift.detected"], **extra)


def schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((ROOT / "schemas" / name).read_text())
    return loaded


def writes(world: World) -> list[str]:
    return [f"{r.method} {r.path}" for r in world.sandbox.requests if r.method in WRITES]


def two_orgs(world: World) -> list[dict[str, Any]]:
    return [
        world.org("acme-ingate", "ingate", [hook("alerts"), hook("audit")]),
        world.org("acme-infraaudit", "infraaudit", [ia_hook("drift")]),
    ]


# -- saved plans ------------------------------------------------------------------------------------


def test_saved_plan_is_applied_exactly_without_paths(world: World) -> None:
    manifest = world.write(two_orgs(world))
    plan_file = world.tmp / "plan.json"
    planned = world.run("plan", manifest, "-o", plan_file, "--detailed-exitcode")
    assert planned.code == 2, planned.text

    doc = json.loads(plan_file.read_text())
    jsonschema.Draft202012Validator(schema("plan.schema.json")).validate(doc)
    assert doc["paths"] == [str(manifest)]
    assert doc["summary"] == {"create": 3, "update": 0, "delete": 0, "replace": 0}
    assert "sandbox-token" not in plan_file.read_text()

    world.sandbox.clear_requests()
    applied = world.run("apply", "--plan", plan_file)
    assert applied.code == 0, applied.text
    assert "Apply complete: 3 created, 0 updated, 0 deleted." in applied.out
    assert sorted(h["url"] for h in world.live("ingate", "acme-ingate")) == [
        "https://hooks.acme.example/alerts",
        "https://hooks.acme.example/audit",
    ]
    assert len(world.live("infraaudit", "acme-infraaudit")) == 1
    assert len(writes(world)) == 3
    assert world.run("plan", manifest, "--detailed-exitcode").code == 0


def test_plan_for_one_org_applies_only_that_org(world: World) -> None:
    manifest = world.write(two_orgs(world))
    plan_file = world.tmp / "plan.json"
    assert world.run("plan", manifest, "--org", "acme-infraaudit", "-o", plan_file).code == 0
    assert [o["name"] for o in json.loads(plan_file.read_text())["organizations"]] == ["acme-infraaudit"]

    applied = world.run("apply", "--plan", plan_file)
    assert applied.code == 0, applied.text
    assert len(world.live("infraaudit", "acme-infraaudit")) == 1
    assert world.live("ingate", "acme-ingate") == []


def test_plan_with_no_changes_applies_nothing(world: World) -> None:
    manifest = world.write(two_orgs(world))
    assert world.run("apply", manifest, "--auto-approve").code == 0
    plan_file = world.tmp / "plan.json"
    assert world.run("plan", manifest, "-o", plan_file).code == 0
    world.sandbox.clear_requests()
    applied = world.run("apply", "--plan", plan_file)
    assert applied.code == 0, applied.text
    assert "No changes" in applied.out
    assert writes(world) == []


def out_of_band_console_edit(world: World) -> None:
    (live,) = [h for h in world.live("ingate", "acme-ingate") if h["url"].endswith("/alerts")]
    world.sandbox.patch_webhook("ingate", live["id"], {"url": "https://elsewhere.example/x"}, account="acme-ingate")


def out_of_band_create(world: World) -> None:
    response = httpx.post(
        world.sandbox.base_url("infraaudit", account="acme-infraaudit") + "/api/v1/webhooks",
        headers={"Authorization": "Bearer sandbox-token"},
        json={"name": "intruder", "url": "https://hooks.acme.example/intruder", "events": ["ping"]},
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("change", [out_of_band_console_edit, out_of_band_create], ids=["edit", "create"])
def test_live_change_after_plan_is_refused_and_nothing_is_written(world: World, change: Any) -> None:
    manifest = world.write(two_orgs(world))
    assert world.run("apply", manifest, "--auto-approve").code == 0
    edited = two_orgs(world)
    edited[0]["webhooks"].append(hook("billing"))
    edited[1]["webhooks"][0]["events"] = ["drift.detected", "drift.resolved"]
    manifest = world.write(edited)
    plan_file = world.tmp / "plan.json"
    assert world.run("plan", manifest, "-o", plan_file).code == 0

    change(world)
    before = {p: world.live(p, f"acme-{p}") for p in ("ingate", "infraaudit")}
    world.sandbox.clear_requests()
    refused = world.run("apply", "--plan", plan_file)
    assert refused.code == 3, refused.text
    assert "stale plan" in refused.err and "nothing applied" in refused.err
    if change is out_of_band_console_edit:  # the edit moved a planned change: the message names it
        assert "planned then → now: " in refused.err, refused.err
    assert writes(world) == []
    assert {p: world.live(p, f"acme-{p}") for p in ("ingate", "infraaudit")} == before


def test_manifest_edited_after_plan_is_refused(world: World) -> None:
    manifest = world.write(two_orgs(world))
    plan_file = world.tmp / "plan.json"
    assert world.run("plan", manifest, "-o", plan_file).code == 0
    edited = two_orgs(world)
    edited[0]["webhooks"][0]["url"] = "https://hooks.acme.example/changed"
    world.write(edited)  # same path, other bytes

    world.sandbox.clear_requests()
    refused = world.run("apply", "--plan", plan_file)
    assert refused.code == 3, refused.text
    assert "the manifests changed" in refused.err
    assert world.sandbox.requests == []  # refused before any API call
    assert world.live("ingate", "acme-ingate") == []


def test_tampered_changes_in_the_saved_plan_are_refused(world: World) -> None:
    manifest = world.write(two_orgs(world))
    plan_file = world.tmp / "plan.json"
    assert world.run("plan", manifest, "-o", plan_file).code == 0
    doc = json.loads(plan_file.read_text())
    doc["organizations"][0]["changes"].pop()
    plan_file.write_text(json.dumps(doc))
    refused = world.run("apply", "--plan", plan_file)
    assert refused.code == 3, refused.text
    assert writes(world) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("this is not json", "not JSON"),
        ('{"kind": "drift", "format_version": 1}', "does not match schemas/plan.schema.json"),
        ('{"format_version": 1, "kind": "plan"}', "does not match schemas/plan.schema.json"),
        ("[1, 2, 3]", "does not match schemas/plan.schema.json"),
    ],
    ids=["garbage", "drift-report", "incomplete", "array"],
)
def test_foreign_plan_file_is_a_clear_error(world: World, content: str, message: str) -> None:
    plan_file = world.tmp / "plan.json"
    plan_file.write_text(content)
    result = world.run("apply", "--plan", plan_file)
    assert result.code == 1
    assert "not a webhook-reconciler plan" in result.err and message in result.err
    assert "Traceback" not in result.text
    assert world.sandbox.requests == []


def test_missing_plan_file_and_mixed_arguments_are_errors(world: World) -> None:
    missing = world.run("apply", "--plan", world.tmp / "nope.json")
    assert missing.code == 1 and "cannot read the plan file" in missing.err
    manifest = world.write(two_orgs(world))
    plan_file = world.tmp / "plan.json"
    assert world.run("plan", manifest, "-o", plan_file).code == 0
    for extra in ([str(manifest)], ["--org", "acme-ingate"], ["--exclude-org", "acme-ingate"]):
        mixed = world.run("apply", "--plan", plan_file, *extra)
        assert mixed.code == 1 and "give no PATH, --org or --exclude-org" in mixed.err
    assert world.sandbox.requests == [r for r in world.sandbox.requests if r.method == "GET"]


# -- safety -----------------------------------------------------------------------------------------


def test_deleting_every_live_webhook_is_refused(world: World) -> None:
    manifest = world.write([world.org("acme", "ingate", [hook("a"), hook("b")], prune=True)])
    assert world.run("apply", manifest, "--auto-approve").code == 0
    emptied = world.write([world.org("acme", "ingate", [], prune=True)])
    world.sandbox.clear_requests()
    refused = world.run("apply", emptied, "--auto-approve")
    assert refused.code == 3, refused.text
    assert "deletes every live webhook (2)" in refused.err
    assert writes(world) == []
    assert len(world.live("ingate", "acme")) == 2


@pytest.mark.parametrize(
    ("live", "removed", "refused"),
    [(8, 3, True), (12, 3, False), (8, 2, False), (2, 1, False)],
    ids=["3-of-8", "3-of-12-is-25pct", "2-of-8", "1-of-2"],
)
def test_mass_delete_threshold(world: World, live: int, removed: int, refused: bool) -> None:
    hooks = [hook(f"h{i}") for i in range(live)]
    assert world.run("apply", world.write([world.org("acme", "ingate", hooks, prune=True)]), "--auto-approve").code == 0
    fewer = world.write([world.org("acme", "ingate", hooks[removed:], prune=True)])
    world.sandbox.clear_requests()
    result = world.run("apply", fewer, "--auto-approve")
    if refused:
        assert result.code == 3, result.text
        assert f"deletes {removed} of {live} live webhooks" in result.err
        assert writes(world) == []
        overridden = world.run("apply", fewer, "--auto-approve", "--allow-deletes")
        assert overridden.code == 0, overridden.text
    else:
        assert result.code == 0, result.text
    assert len(world.live("ingate", "acme")) == live - removed


def test_saved_plan_is_also_checked_for_safety(world: World) -> None:
    manifest = world.write([world.org("acme", "ingate", [hook("a")], prune=True)])
    assert world.run("apply", manifest, "--auto-approve").code == 0
    emptied = world.write([world.org("acme", "ingate", [], prune=True)])
    plan_file = world.tmp / "plan.json"
    assert world.run("plan", emptied, "-o", plan_file).code == 0
    assert world.run("apply", "--plan", plan_file).code == 3
    assert len(world.live("ingate", "acme")) == 1
    assert world.run("apply", "--plan", plan_file, "--allow-deletes").code == 0
    assert world.live("ingate", "acme") == []


def test_protected_webhook_survives_removal_until_protect_false_is_applied(world: World) -> None:
    keep = ia_hook("keep")
    guarded = ia_hook("guarded", protect=True)
    assert (
        world.run(
            "apply", world.write([world.org("acme", "infraaudit", [keep, guarded], prune=True)]), "-q", "--auto-approve"
        ).code
        == 0
    )
    removed = world.write([world.org("acme", "infraaudit", [keep], prune=True)])

    for flags in ((), ("--allow-deletes",)):
        world.sandbox.clear_requests()
        refused = world.run("apply", removed, "--auto-approve", *flags)
        assert refused.code == 3, refused.text
        assert "refusing to delete protected webhook(s) guarded" in refused.err
        assert writes(world) == []
    assert len(world.live("infraaudit", "acme")) == 2

    unguarded = world.write([world.org("acme", "infraaudit", [keep, ia_hook("guarded", protect=False)], prune=True)])
    lifted = world.run("apply", unguarded, "--auto-approve")
    assert lifted.code == 0, lifted.text
    removed = world.write([world.org("acme", "infraaudit", [keep], prune=True)])
    deleted = world.run("apply", removed, "--auto-approve")
    assert deleted.code == 0, deleted.text
    assert [h["name"] for h in world.live("infraaudit", "acme")] == ["keep"]


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_an_unwritable_out_file_is_one_clear_error_and_leaves_nothing(world: World, command: str) -> None:
    manifest = world.write([world.org("acme-ingate", "ingate", [{"name": "a", "url": "https://h.example/a"}])])
    missing = world.tmp / "no-such-folder" / "plan.json"
    result = world.run(command, manifest, "-o", missing)
    assert result.code == 1 and result.err == f"error: cannot write {missing}: No such file or directory\n"
    folder = world.tmp / "plans"
    folder.mkdir()
    result = world.run(command, manifest, "-o", folder)
    assert result.code == 1 and result.err == f"error: cannot write {folder}: it is a directory\n"
    assert sorted(p.name for p in world.tmp.iterdir() if p.name.startswith(".")) == []  # nothing left behind


def test_a_saved_plan_is_stale_when_an_env_value_moved_and_says_so(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_URL", "https://hooks.acme.example/one")
    manifest = world.write([world.org("acme-ingate", "ingate", [{"name": "a", "url": "${env:HOOK_URL}"}])])
    plan_file = world.tmp / "plan.json"
    assert world.run("plan", manifest, "-o", plan_file).code == 0
    monkeypatch.setenv("HOOK_URL", "https://hooks.acme.example/two")  # same files, same live state
    refused = world.run("apply", "--plan", plan_file)
    assert refused.code == 3, refused.text
    assert "stale plan: a webhook value from ${env:...} changed since it was made" in refused.err
    assert "https://hooks.acme.example/" not in plan_file.read_text()  # the plan holds a digest, not the value
    assert writes(world) == []

    monkeypatch.setenv("HOOK_URL", "https://hooks.acme.example/one")  # back as planned: the plan applies
    older = json.loads(plan_file.read_text())
    del older["masked_digest"]  # as plans made before the field existed
    world.tmp.joinpath("older.json").write_text(json.dumps(older))
    refused = world.run("apply", "--plan", world.tmp / "older.json")
    assert refused.code == 3 and "it was made by an older version" in refused.err, refused.text
    assert world.run("apply", "--plan", plan_file).code == 0


def test_a_stale_plan_says_what_its_approval_no_longer_covers() -> None:
    from reconciler.engine.saved_plans import what_moved

    def change(action: str, webhook: str, *fields: tuple[str, Any, Any]) -> dict[str, Any]:
        return {
            "action": action,
            "webhook": webhook,
            "webhook_id": None,
            "renamed_from": None,
            "new_destination": False,
            "protected": False,
            "fields": [{"field": f, "before": b, "after": a, "masked": False} for f, b, a in fields],
        }

    saved = [change("update", "alerts", ("url", "https://a/1", "https://a/2")), change("create", "keys")]
    fresh = [
        change("update", "alerts", ("url", "https://a/0", "https://a/2"), ("active", True, False)),
        change("delete", "old"),
    ]
    assert what_moved(saved, fresh) == (
        "alerts (update: active, url moved), keys (create → nothing), old (nothing → delete)"
    )
    assert what_moved(saved, saved) == ""
