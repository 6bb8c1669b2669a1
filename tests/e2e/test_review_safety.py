"""Review-safe changes over real HTTP: destination policy, destination changes in every format, order
within an org, honest drift, and markdown that fits a pull-request comment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from reconciler.render.markdown import LIMIT
from tests.e2e.test_lifecycle import hook
from tests.e2e.world import World

# -- destination policy (contract §2) ---------------------------------------------------------------------


def location(path: Path, text: str) -> str:
    """`file:line:col` of the first value `text` in the YAML file."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return f"{path.name}:{number}:{line.index(text) + 1}"
    raise AssertionError(f"{text} not in {path}")


def test_policy_refuses_destinations_before_any_request(world: World) -> None:
    folder = world.tmp / "manifests"
    folder.mkdir()
    policy = folder / "00-policy.yaml"
    policy.write_text(
        "version: 1\npolicy:\n  allowed_hosts: [hooks.acme.example, '*.acme.example']\n"
        "  allowed_api_hosts: ['127.0.0.1']\n"  # the sandbox's host, where the orgs' tokens go
    )
    bad = {
        "https://evil.example/x": "matches no entry of the policy's allowed_hosts",
        "http://hooks.acme.example/plain": "uses http://, which the policy refuses (allow_http is false)",
        "https://10.1.2.3/x": "is a local or private address, which the policy refuses",
    }
    webhooks = [{"name": f"h{i}", "url": url} for i, url in enumerate(bad)]
    webhooks.append({"name": "fine", "url": "https://eu.acme.example/ok"})
    orgs = world.write([world.org("acme", "immuta", webhooks)], name="manifests/orgs.yaml")

    for command in ("validate", "plan", "drift"):
        result = world.run(command, folder)
        assert result.code == 1, result.text
        for url, message in bad.items():
            assert f"{location(orgs, url)}: " in result.err and message in result.err
        assert "eu.acme.example" not in result.err
        assert "Traceback" not in result.text
    assert world.sandbox.requests == []  # refused before any request

    # Defined once only, so a security team can own the one file that holds it.
    (folder / "10-second-policy.yaml").write_text("version: 1\npolicy:\n  allow_http: true\n")
    twice = world.run("validate", folder)
    assert twice.code == 1
    assert "10-second-policy.yaml:2:1: " in twice.err and "policy is already defined at" in twice.err

    # Within the policy, the same manifests plan normally.
    (folder / "10-second-policy.yaml").unlink()
    policy.write_text(
        "version: 1\npolicy:\n  allowed_hosts: ['*.example', 10.1.2.3]\n"
        "  allow_http: true\n  allow_private_addresses: true\n  allowed_api_hosts: ['127.0.0.1']\n"
    )
    assert world.run("plan", folder).code == 0
    assert world.sandbox.requests


# -- destination changes stand out -------------------------------------------------------------------


def test_new_destinations_are_marked_in_every_format(world: World) -> None:
    first = [
        world.org("acme", "ingate", [hook("ingate", "a", "a")]),
        world.org("beta", "ingate", [hook("ingate", "x", "x")]),
    ]
    assert world.run("apply", world.write(first), "--auto-approve").code == 0
    second = [
        world.org(
            "acme",
            "ingate",
            [
                {"name": "a", "url": "https://moved.example/a"},  # the host changes
                hook("ingate", "b", "b"),  # a new webhook to a host the org already sends to
                {"name": "c", "url": "https://new.example/c"},  # a new webhook to a new host
            ],
        ),
        world.org("beta", "ingate", [hook("ingate", "x", "elsewhere")]),  # same host, new path
    ]
    path = world.write(second)

    text = world.run("plan", path).out
    assert "! new destination: events will go to moved.example" in text
    assert "! new destination: events will go to new.example" in text
    assert text.count("new destination") == 2

    doc = json.loads(world.run("plan", path, "--format", "json").out)
    flags = {(o["name"], c["webhook"]): c["new_destination"] for o in doc["organizations"] for c in o["changes"]}
    assert flags == {("acme", "a"): True, ("acme", "b"): False, ("acme", "c"): True, ("beta", "x"): False}

    markdown = world.run("plan", path, "--format", "markdown").out
    (line,) = [line for line in markdown.splitlines() if "**New destinations:**" in line]
    assert "`acme/a`" in line and "`acme/c`" in line and "acme/b" not in line and "beta/x" not in line
    assert "! new destination: events will go to new.example" in markdown


# -- order within an org -----------------------------------------------------------------------------


def writes(world: World, account: str) -> list[str]:
    return [r.method for r in world.sandbox.requests if r.account == account and r.method != "GET"]


def test_creates_and_updates_run_before_deletes(world: World) -> None:
    first = [world.org("acme", "ingate", [hook("ingate", "a", "a"), hook("ingate", "b", "b")])]
    assert world.run("apply", world.write(first), "--auto-approve").code == 0
    world.sandbox.clear_requests()
    second = [world.org("acme", "ingate", [hook("ingate", "a", "moved"), hook("ingate", "c", "c")], prune=True)]
    applied = world.run("apply", world.write(second), "--auto-approve")
    assert applied.code == 0, applied.text
    assert writes(world, "acme") == ["POST", "PUT", "DELETE"]


def test_no_delete_in_an_org_where_a_create_or_update_failed(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    readonly = "readonly-token-5d2e9a"
    world.sandbox.add_token(readonly, role="readonly")
    world.watch.append(readonly)
    monkeypatch.setenv("RO_TOKEN", readonly)
    url = "https://hooks.acme.example/{}".format
    first = [
        world.org("enc", "encrata", [{"name": "a", "url": url("a")}, {"name": "x", "url": url("x")}]),
        world.org("ro", "keeptrusts", [{"name": "keep", "url": url("keep")}, {"name": "old", "url": url("old")}]),
    ]
    assert world.run("apply", world.write(first), "--auto-approve").code == 0
    world.sandbox.clear_requests()

    second = [
        # Encrata refuses a second webhook with the same URL (409): `a` cannot move to x's URL while x lives.
        world.org("enc", "encrata", [{"name": "a", "url": url("x")}, {"name": "b", "url": url("b")}], prune=True),
        # A token that may read but not write: the create is refused (403).
        world.org(
            "ro",
            "keeptrusts",
            [{"name": "keep", "url": url("keep")}, {"name": "z", "url": url("z")}],
            prune=True,
            token="${env:RO_TOKEN}",
        ),
        world.org("good", "ingate", [{"name": "new", "url": url("new")}], prune=True),
    ]
    applied = world.run("apply", world.write(second), "--auto-approve")
    assert applied.code == 4, applied.text  # partly applied
    assert "+ enc/b: created" in applied.out and "✗ enc/a:" in applied.out
    assert "✗ ro/z:" in applied.out and "+ good/new: created" in applied.out
    for held in ("enc/x", "ro/old"):
        assert f"✗ {held}: held back: an earlier change of this org failed" in applied.out
    assert "Apply finished partly" in applied.out and "2 failed, 2 not attempted." in applied.out
    assert writes(world, "enc") == ["POST", "PUT"] and writes(world, "ro") == ["POST"]
    assert url("x") in {h["url"] for h in world.live("encrata", "enc")}
    assert {h["url"] for h in world.live("keeptrusts", "ro")} == {url("keep"), url("old")}


# -- honest drift ------------------------------------------------------------------------------------


def test_drift_with_one_org_unreadable_is_never_in_sync(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    revoked = "c-token-90f1e3"
    world.sandbox.add_token(revoked)
    world.watch.append(revoked)
    monkeypatch.setenv("C_TOKEN", revoked)
    orgs = [
        world.org("a", "ingate", [hook("ingate")]),
        world.org("b", "infraaudit", [hook("infraaudit")]),
        world.org("c", "keeptrusts", [hook("keeptrusts")], token="${env:C_TOKEN}"),
    ]
    path = world.write(orgs)
    assert world.run("apply", path, "--auto-approve").code == 0
    assert world.run("drift", path).code == 0
    world.sandbox.revoke_token(revoked)

    clean = world.run("drift", path)
    assert clean.code == 1, clean.text
    assert "Could not check 1 organization(s): c." in clean.out
    assert "No drift in the 2 other organization(s) checked." in clean.out
    assert "in sync" not in clean.out
    assert "error: c: could not read:" in clean.err and "401" in clean.err
    clean_markdown = world.run("drift", path, "--format", "markdown").out
    assert "**No drift in the 2 other organization(s) checked.**" in clean_markdown
    assert "in sync.**" not in clean_markdown

    (b_hook,) = world.live("infraaudit", "b")
    tampered = {"url": "https://hooks.acme.example/tampered"}
    world.sandbox.patch_webhook("infraaudit", b_hook["id"], tampered, account="b")
    drifted = world.run("drift", path)
    assert drifted.code == 1, drifted.text  # an error outranks drift: the report is incomplete
    assert "Could not check 1 organization(s): c." in drifted.out
    assert "Drift: 1 of 2 organization(s) differ from the manifests." in drifted.out
    assert "~ alerts" in drifted.out and "tampered" in drifted.out

    doc = json.loads(world.run("drift", path, "--format", "json").out)
    assert doc["in_sync"] is False
    assert {o["name"]: o["status"] for o in doc["organizations"]} == {"a": "in_sync", "b": "drifted", "c": "error"}
    assert (doc["summary"]["errors"], doc["summary"]["drifted"]) == (1, 1)

    markdown = world.run("drift", path, "--format", "markdown").out
    assert "Could not check 1 organization(s): `c`." in markdown and "`b`" in markdown

    plan = world.run("plan", path)
    assert plan.code == 1 and "error: c: could not read:" in plan.err
    assert "Plan: 0 to create, 1 to update, 0 to delete." in plan.out


# -- pull-request comments that fit ------------------------------------------------------------------


def test_apply_never_says_in_sync_when_an_org_could_not_be_read(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCKED_TOKEN", "locked-token-5d2e")
    path = world.write([world.org("locked", "ingate", [hook("ingate")], token="${env:LOCKED_TOKEN}")])
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1, result.text
    assert "error: locked: could not read:" in result.err
    assert "match the manifests" not in result.out


def test_markdown_for_200_orgs_fits_a_comment(world: World) -> None:
    long_path = "/".join(["deliveries-for-the-finance-and-audit-teams"] * 6)

    def webhooks(i: int) -> list[dict[str, Any]]:
        return [{"name": "hook", "url": f"https://hooks{i}.acme.example/{long_path}", "events": ["key.create"]}]

    path = world.write([world.org(f"org-{i:03d}", "ingate", webhooks(i)) for i in range(200)])
    full = world.tmp / "full-plan.json"
    result = world.run("plan", path, "--format", "markdown", "-o", full)
    assert result.code == 0, result.text
    assert len({r.account for r in world.sandbox.requests}) == 200  # planned over real HTTP
    markdown = result.out
    assert len(markdown) < LIMIT
    assert "**Plan: 200 to create, 0 to update, 0 to delete.**" in markdown
    assert "organization detail(s) are left out" in markdown and "The full report is in the `-o` file" in markdown
    assert len(json.loads(full.read_text())["organizations"]) == 200  # the full plan is all there

    drift = world.run("drift", path, "--format", "markdown")
    assert drift.code == 2
    assert len(drift.out) < LIMIT and "organization detail(s) are left out" in drift.out
