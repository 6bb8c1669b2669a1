"""Files the tool writes, attacked (issue 15): `-o FILE` of plan, drift and import, and recovery files.
A symlink planted at the target or at the temporary name the tool used to use is never written through,
an existing file keeps its mode, and the recovery directory must be the user's own with mode 0700; a
recovery file that cannot be read or written is an error naming the org, the webhook and its live id."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from reconciler.core.model import SecretRecord
from reconciler.core.secret import Secret
from reconciler.engine import recovery
from reconciler.providers.ingate import IngateProvider
from tests.e2e.test_lifecycle import hook
from tests.e2e.test_secret_failures import after_create, vault_org
from tests.e2e.world import TOKEN_ENV, VAULT_TOKEN_ENV, VaultView, World

ORG = "acme"
PLANTED = f"whsec_{'p' * 32}"  # what an attacker would like stored as the webhook's signing secret


def outputs(world: World, path: Path, target: Path) -> dict[str, list[str | Path]]:
    base = world.sandbox.base_url("ingate", account=ORG)
    return {
        "plan": ["plan", path, "--format", "json", "-o", target],
        "drift": ["drift", path, "--format", "json", "-o", target],
        "import": ["import", "--provider", "ingate", "--base-url", base, "--token-env", TOKEN_ENV, "--org", ORG,
                   "-o", target],
    }


@pytest.mark.parametrize("command", ["plan", "drift", "import"])
def test_output_files_never_follow_a_planted_symlink_and_keep_the_mode(world: World, command: str) -> None:
    path = world.write([world.org(ORG, "ingate", [hook("ingate")])])
    assert world.run("apply", path, "--auto-approve").code == 0
    victim = world.tmp / "victim"
    victim.write_text("keep me")
    target = world.tmp / "out.json"
    old_temporary = world.tmp / ".out.json.tmp"  # the fixed name the tool used before: pre-plantable
    old_temporary.symlink_to(victim)
    target.symlink_to(victim)
    args = outputs(world, path, target)[command]

    result = world.run(*args)
    assert result.code in (0, 2), result.text
    assert victim.read_text() == "keep me"
    assert not target.is_symlink() and target.stat().st_size > 0
    assert old_temporary.is_symlink()  # never opened, never removed

    target.chmod(0o640)
    assert world.run(*args).code in (0, 2)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(p.name for p in world.tmp.iterdir() if p.name.startswith(".out.json")) == [".out.json.tmp"]


def plant(world: World, mode: int, *, secret: str = PLANTED, webhook_id: str = "wh_attacker") -> Path:
    folder = Path(world.tmp, "state", "webhook-reconciler", "recovery")
    folder.mkdir(parents=True)
    folder.chmod(mode)
    record = {"org": ORG, "webhook": "alerts", "secret": secret, "webhook_id": webhook_id, "provider": "ingate",
              "url": "https://hooks.acme.example/x", "created_at": "2030-01-01T00:00:00Z"}
    planted = folder / f"{ORG}__alerts.json"
    planted.write_text(json.dumps(record))
    return folder


@pytest.mark.parametrize("mode", [0o777, 0o755, 0o750], ids=oct)
def test_a_recovery_directory_others_can_reach_is_refused(world: World, mode: int) -> None:
    """A file planted in a directory others can write would become the webhook's stored signing secret."""
    path = world.write([world.org(ORG, "ingate", [hook("ingate")])])
    folder = plant(world, mode)
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1
    assert result.err == (
        f"error: the recovery directory {folder} has mode {mode:04o}: others could read it or plant a file there; "
        "it must be 0700; refusing to use it\n"
    )
    assert world.stored(ORG, "alerts") is None and world.live("ingate", ORG) == []


def test_a_recovery_directory_of_another_user_or_a_symlink_is_refused(world: World) -> None:
    path = world.write([world.org(ORG, "ingate", [hook("ingate")])])
    folder = plant(world, 0o700)
    real = folder.with_name("elsewhere")
    folder.rename(real)
    folder.symlink_to(real)
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1 and "is not a directory (a symlink?); refusing to use it" in result.err
    folder.unlink()
    real.rename(folder)
    if os.geteuid() != 0:
        pytest.skip("only root can give the directory to another user")  # CI and this sandbox run as root
    os.chown(folder, 4242, -1)
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1 and f"belongs to user id 4242, not to you ({os.geteuid()})" in result.err
    assert world.stored(ORG, "alerts") is None


@pytest.mark.parametrize(
    ("content", "why", "named_id"),
    [
        ("{not json", "not valid JSON", "webhook id unknown"),
        (json.dumps({"org": ORG, "webhook": "alerts", "webhook_id": "wh_1"}), "field 'secret' is missing or not text",
         "webhook id wh_1"),
        (json.dumps([1, 2]), "not a JSON object", "webhook id unknown"),
        (None, "a symlink", "webhook id unknown"),
    ],
    ids=["not json", "missing field", "not an object", "symlink"],
)
def test_a_recovery_file_that_cannot_be_read_is_a_clear_error(
    world: World, content: str | None, why: str, named_id: str
) -> None:
    path = world.write([world.org(ORG, "ingate", [hook("ingate")])])
    folder = Path(world.tmp, "state", "webhook-reconciler", "recovery")
    folder.mkdir(parents=True, mode=0o700)
    file = folder / f"{ORG}__alerts.json"
    if content is None:
        file.symlink_to(world.tmp / "elsewhere.json")
    else:
        file.write_text(content)
    for _ in range(2):  # every later apply says the same, never "internal error"
        result = world.run("apply", path, "--auto-approve")
        assert result.code == 1
        assert result.err.startswith(f"error: {ORG}/alerts ({named_id}): the recovery file {file} cannot be read "
                                     f"({why}). It may hold the only copy"), result.err
        assert "internal error" not in result.text


def test_a_recovery_file_that_cannot_be_written_names_the_webhook_and_its_id(
    world: World, vault: VaultView, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store refuses the new secret, the API refuses to delete the webhook again, and the recovery
    directory is unsafe: the error says which webhook now has a secret stored nowhere, and what to do."""
    token = vault.server.least_privilege_token()
    monkeypatch.setenv(VAULT_TOKEN_ENV, token)
    world.watch.append(token)

    folder = Path(world.tmp, "state", "webhook-reconciler", "recovery")
    folder.mkdir(parents=True, mode=0o700)

    def all_three_fail() -> None:
        vault.server.client().auth.token.revoke(token)
        world.sandbox.revoke_token("sandbox-token")
        folder.chmod(0o755)  # after apply found it safe (and empty) at its start

    after_create(monkeypatch, IngateProvider, all_three_fail)
    path = world.write([vault_org(world)], secret_stores=vault.stores())
    result = world.run("apply", path, "--auto-approve")
    assert result.code == 1
    (live,) = world.live("ingate", ORG)
    assert (
        f"{ORG}/alerts: the secret of webhook {live['id']} could not be kept in a recovery file either: the "
        f"recovery directory {folder} has mode 0755"
    ) in result.text
    assert f"rotate it (`reconciler rotate PATH... {ORG}/alerts`)" in result.text
    assert "internal error" not in result.text
    assert list(folder.iterdir()) == []


def test_recovery_files_are_written_with_the_safe_helper(world: World) -> None:
    """keep() in a fresh state directory: the directory is made 0700, the file 0600, and it reads back."""
    record = SecretRecord(Secret(PLANTED), "wh_1", "ingate", "https://h.example/x", "2030-01-01T00:00:00Z")
    path = recovery.keep(ORG, "alerts", record)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700 and stat.S_IMODE(path.stat().st_mode) == 0o600
    ((found, webhook, again),) = recovery.pending(ORG)
    assert (found, webhook, again) == (path, "alerts", record)
