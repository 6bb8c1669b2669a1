"""contract §6: a markdown report's first line is `<!-- webhook-reconciler:<kind>:<key> -->`, key from
--comment-key (default `default`), so a poster finds and updates its own comment; a key that could break
out of the HTML comment is refused before anything is read."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main
from tests.e2e.world import World
from tests.render.dom import outline


def manifest(world: World) -> Path:
    return world.write([world.org("acme", "ingate", [{"name": "h", "url": "https://hooks.acme.example/h"}])])


@pytest.mark.parametrize("kind", ["plan", "drift"])
def test_marker_with_the_default_key(world: World, kind: str) -> None:
    result = world.run(kind, manifest(world), "--format", "markdown")
    first, second = result.out.splitlines()[:2]
    assert first == f"<!-- webhook-reconciler:{kind}:default -->"
    assert second == f"### webhook-reconciler {kind}"
    # A hidden comment, as GitHub and GitLab render it: nothing of it is shown.
    assert outline(result.out)[0] == f"<!-- webhook-reconciler:{kind}:default -->"


@pytest.mark.parametrize("kind", ["plan", "drift"])
def test_marker_with_a_comment_key(world: World, kind: str) -> None:
    result = world.run(kind, manifest(world), "--format", "markdown", "--comment-key", "prod.eu/shard-1_of-4")
    assert result.out.splitlines()[0] == f"<!-- webhook-reconciler:{kind}:prod.eu/shard-1_of-4 -->"


@pytest.mark.parametrize("key", ["", "a-->b", "a--b", "x-", "-x", "a b", "a\nb", "ü", "k" * 65, "a:b"])
def test_a_key_that_could_break_the_comment_is_refused(
    world: World, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:  # a usage error, as argparse reports it: exit 1 (contract §4)
        main(["plan", str(manifest(world)), "--format", "markdown", f"--comment-key={key}"])
    assert exit_.value.code == 1
    out, err = capsys.readouterr()
    assert "--comment-key" in err and "letters and digits" in err
    assert out == ""
    assert world.sandbox.requests == []  # refused before any request


def test_text_and_json_have_no_marker(world: World) -> None:
    path = manifest(world)
    assert not world.run("plan", path, "--comment-key", "k").out.startswith("<!--")
    assert world.run("drift", path, "--format", "json", "--comment-key", "k").out.startswith("{")
