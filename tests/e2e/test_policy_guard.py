"""`--policy FILE` and `allowed_api_hosts` end to end: a pull request cannot loosen its own guard, nor send an
org's API token to a host of its choosing; a saved plan keeps the policy file it was made with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.world import TOKEN_ENV, World

HOOK = {"name": "alerts", "url": "https://hooks.acme.example/a", "events": ["key.create"]}


def guard(world: World, text: str = "") -> Path:
    """The security team's policy, as CI takes it from the default branch; the sandbox is its API host."""
    path = world.tmp / "guard.yaml"
    path.write_text(
        "version: 1\npolicy:\n  allowed_hosts: ['*.acme.example']\n  allowed_api_hosts: ['127.0.0.1']\n" + text
    )
    return path


@pytest.mark.parametrize("command", ["validate", "plan", "apply", "drift"])
def test_a_pull_request_cannot_loosen_the_policy_file(world: World, command: str) -> None:
    loose = {"allowed_hosts": ["*"], "allow_http": True, "allow_private_addresses": True}
    loose["allowed_api_hosts"] = ["127.0.0.1"]  # the sandbox
    hooks = [{"name": "alerts", "url": "https://hooks.acme.example/a"}, {"name": "evil", "url": "http://evil.example/x"}]
    manifest = world.write([world.org("acme", "immuta", hooks)], policy=loose)  # Immuta takes http:// URLs
    extra = ["--auto-approve"] if command == "apply" else []
    result = world.run(command, manifest, "--policy", guard(world), *extra)
    assert result.code == 1, result.text
    assert "'url' uses http://, which the --policy file refuses (allow_http is false)" in result.err
    assert "'url' host 'evil.example' matches no entry of the --policy file's allowed_hosts" in result.err
    assert world.sandbox.requests == []  # refused before any request
    assert world.run(command, manifest, *extra).code != 1  # without the file, the manifests' own policy rules


def test_a_pull_request_cannot_send_the_token_elsewhere(world: World) -> None:
    """The PR points the org's base_url at a host of its own (here `localhost`: the same sandbox under another
    name, so a request would be seen). With a policy, the token never leaves: plan fails before any request."""
    org = world.org("acme", "ingate", [HOOK])
    org["base_url"] = org["base_url"].replace("127.0.0.1", "localhost")
    manifest = world.write([org], policy={"allowed_hosts": ["*.acme.example"], "allowed_api_hosts": ["127.0.0.1"]})
    result = world.run("plan", manifest)
    assert result.code == 1
    assert "'base_url' host 'localhost' is not ingate's documented API host (api.ingateai.com)" in result.err
    assert world.sandbox.requests == []

    no_policy = world.write([org])  # without any policy, any base_url keeps working (the sandbox, a proxy)
    assert world.run("plan", no_policy).code == 0
    assert world.sandbox.requests


def test_a_base_url_with_credentials_is_an_error(world: World) -> None:
    org = world.org("acme", "ingate", [HOOK])
    org["base_url"] = org["base_url"].replace("http://", "http://svc:pw-Zk31@")
    result = world.run("plan", world.write([org]))
    assert result.code == 1 and "'base_url' must not carry 'user:password@'" in result.err
    assert "pw-Zk31" not in result.text
    assert world.sandbox.requests == []


def test_a_saved_plan_applies_with_the_policy_file_it_records(world: World) -> None:
    manifest = world.write([world.org("acme", "ingate", [HOOK])])
    policy = guard(world)
    plan_file = world.tmp / "plan.json"
    assert world.run("plan", manifest, "--policy", policy, "-o", plan_file).code == 0
    recorded = json.loads(plan_file.read_text())["policy_file"]
    assert recorded["path"] == str(policy) and len(recorded["digest"]) == 64

    given = world.run("apply", "--plan", plan_file, "--policy", policy)
    assert given.code == 1 and "give no PATH, --org or --exclude-org (nor --policy)" in given.err

    policy.write_text(policy.read_text() + "  allow_http: true\n")  # loosened after the review
    moved = world.run("apply", "--plan", plan_file)
    assert moved.code == 3 and f"the policy file {policy} changed since it was made" in moved.err
    assert {r.method for r in world.sandbox.requests} <= {"GET"}

    guard(world)
    applied = world.run("apply", "--plan", plan_file)
    assert applied.code == 0, applied.text
    assert len(world.live("ingate", "acme")) == 1


def test_validate_names_the_policy_file(world: World) -> None:
    manifest = world.write([world.org("acme", "ingate", [HOOK])])
    result = world.run("validate", manifest, "--policy", guard(world))
    assert result.code == 0 and f"within the policy of {world.tmp / 'guard.yaml'}" in result.out
    assert TOKEN_ENV
