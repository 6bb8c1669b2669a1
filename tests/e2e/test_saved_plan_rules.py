"""Issue 19: the rules of `apply --plan FILE` as README's "Applying a saved plan" states them: it never asks,
its manifest paths are read relative to the working directory, and any byte change (a comment too) is stale."""

from __future__ import annotations

import pytest

from tests.e2e.test_gitops import hook
from tests.e2e.test_terminal import on_terminal
from tests.e2e.world import World


def test_a_saved_plan_never_asks_even_on_a_terminal(world: World) -> None:
    manifest = world.write([world.org("acme", "ingate", [hook("a")])])
    # Made from world.tmp (where on_terminal runs), with the relative path a pipeline would give.
    screen = on_terminal(world, ["plan", manifest.name, "-o", "plan.json"])
    assert screen.code == 0, screen.text
    applied = on_terminal(world, ["apply", "--plan", "plan.json"])  # no answer typed: none is asked for
    assert applied.code == 0, applied.text
    assert "Only 'yes' will be accepted" not in applied.text and "Apply complete: 1 created" in applied.text
    assert len(world.live("ingate", "acme")) == 1


def test_relative_manifest_paths_are_read_from_the_working_directory(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    (world.tmp / "repo").mkdir()
    world.write([world.org("acme", "ingate", [hook("a")])], name="repo/webhooks.yaml")
    monkeypatch.chdir(world.tmp / "repo")
    assert world.run("plan", "webhooks.yaml", "-o", "../plan.json").code == 0
    world.sandbox.clear_requests()

    monkeypatch.chdir(world.tmp)  # elsewhere: the recorded `webhooks.yaml` is not there
    elsewhere = world.run("apply", "--plan", "plan.json")
    assert elsewhere.code == 1 and "webhooks.yaml" in elsewhere.err, elsewhere.text
    assert world.sandbox.requests == [] and world.live("ingate", "acme") == []

    monkeypatch.chdir(world.tmp / "repo")
    assert world.run("apply", "--plan", "../plan.json").code == 0
    assert len(world.live("ingate", "acme")) == 1


def test_a_comment_only_edit_makes_the_plan_stale(world: World) -> None:
    manifest = world.write([world.org("acme", "ingate", [hook("a")])])
    plan_file = world.tmp / "plan.json"
    assert world.run("plan", manifest, "-o", plan_file).code == 0
    manifest.write_text(manifest.read_text() + "# reviewed by: alice\n")
    refused = world.run("apply", "--plan", plan_file)
    assert refused.code == 3 and "the manifests changed since it was made; nothing applied" in refused.err
    assert world.live("ingate", "acme") == []
