"""Every command, as a user runs it (the real CLI in its own process), plain and with --debug: no secret,
token or env-sourced URL in any byte printed or any file written. Plus the `Secret` value type itself."""

from __future__ import annotations

import io
import logging
import os
import pickle
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from reconciler.core.model import SecretRecord
from reconciler.core.redact import MASK as REDACTED
from reconciler.core.secret import Secret
from reconciler.sandbox.faults import Faults
from tests.e2e.test_lifecycle import PROVIDERS, hook
from tests.e2e.world import TOKEN_ENV, Result, VaultView, World

HOOK_URL_ENV = "LEAK_TEST_HOOK_URL"
# A receiver URL whose path is itself a credential: it must never be shown, so it comes from the environment.
HOOK_URL = f"https://hooks.acme.example/keeptrusts/{uuid.uuid4().hex}"
HTTP_TRACE = re.compile(r"DEBUG reconciler\.http: (GET|POST|PUT|DELETE) /\S* -> .+ in \d+ ms \(attempt \d+\)")


def cli(world: World, *args: str | Path) -> Result:
    """One command in a fresh process (so only what that process itself learned can be redacted)."""
    env = {**os.environ, **world.keyring.session.env}
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *map(str, args)],
        env=env,
        cwd=world.tmp,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    world.outputs += [done.stdout, done.stderr]
    return Result(done.returncode, done.stdout, done.stderr)


def both(world: World, expected: set[int], *args: str | Path) -> list[Result]:
    """The command plain, then with --debug; every HTTP trace line shows method, path, status and time only."""
    results = [cli(world, *args), cli(world, *args, "--debug")]
    for result in results:
        assert result.code in expected, result.text
    for line in results[1].err.splitlines():
        if "reconciler.http" in line:
            assert HTTP_TRACE.fullmatch(line), line
    return results


def manifest(world: World, vault: VaultView, path_suffix: str = "") -> Path:
    orgs = []
    for provider in PROVIDERS:
        spec = hook(provider, path="a" + path_suffix)
        if provider == "keeptrusts":
            spec["url"] = "${env:" + HOOK_URL_ENV + "}"
        store = "team-vault" if provider in ("ingate", "immuta") else "desktop"
        orgs.append(world.org(f"acme-{provider}", provider, [spec], secret_store=store, prune=True))
    stores = {**vault.stores(), "desktop": {"type": "keyring", "service": world.service}}
    return world.write(orgs, secret_stores=stores)


def test_no_command_ever_prints_or_writes_a_secret(
    world: World, vault: VaultView, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HOOK_URL_ENV, HOOK_URL)
    # Some 60 commands would wait out Encrata's documented 30 requests/minute; that limit has its own tests.
    world.sandbox.set_faults(Faults(encrata_rate_limit=None))
    path = manifest(world, vault)
    out = world.tmp / "out"
    out.mkdir()

    both(world, {0}, "validate", path)
    first = both(world, {2}, "plan", path, "--detailed-exitcode")
    assert f"url: {REDACTED}" in first[0].out  # the env-sourced URL shows as masked, not as nothing
    for fmt in ("text", "json", "markdown"):
        both(world, {0}, "plan", path, "--format", fmt, "-o", out / f"plan.{fmt}")
    both(world, {0}, "apply", path, "--auto-approve")
    assert world.stored("acme-keeptrusts", "alerts") == world.current_secret(
        "keeptrusts", "acme-keeptrusts", world.live("keeptrusts", "acme-keeptrusts")[0]["id"]
    )

    # A change, saved as a plan and applied from the file.
    monkeypatch.setenv(HOOK_URL_ENV, HOOK_URL + "-v2")
    path = manifest(world, vault, path_suffix="2")
    for flag in ((), ("--debug",)):
        saved = out / f"change{len(flag)}.json"
        assert cli(world, "plan", path, "-o", saved, *flag).code == 0
        assert cli(world, "apply", "--plan", saved, *flag).code == 0
    for fmt in ("text", "json", "markdown"):
        both(world, {0}, "drift", path, "--format", fmt)
    both(world, {0}, "drift", path, "--format", "json", "-o", out / "drift.json")
    both(
        world,
        {0},
        "import",
        "--provider",
        "infraaudit",
        "--base-url",
        world.sandbox.base_url("infraaudit", account="acme-infraaudit"),
        "--token-env",
        TOKEN_ENV,
        "--org",
        "acme-infraaudit",
    )
    both(
        world,
        {0},
        "import",
        "--provider",
        "encrata",
        "--base-url",
        world.sandbox.base_url("encrata", account="acme-encrata"),
        "--token-env",
        TOKEN_ENV,
        "-o",
        out / "imported.yaml",
    )
    both(world, {0}, "rotate", path, "acme-keeptrusts/alerts")
    both(world, {0}, "rotate", path, "acme-immuta/alerts")
    both(world, {0}, "rotate", path, "acme-ingate/alerts", "--recreate")
    both(world, {0}, "rotate", path, "acme-encrata/alerts")  # no in-place rotation: re-created
    for provider in ("infraaudit", "keeptrusts", "immuta", "encrata"):
        both(world, {0}, "test", path, f"acme-{provider}/alerts")
    both(world, {1}, "test", path, "acme-ingate/alerts")  # no test endpoint
    both(world, {0}, "plan", path, "--detailed-exitcode")

    issued = world.sandbox.secrets()
    assert len(issued) >= 8  # five creates, two in-place rotations, one re-create (at least)
    everything = "\n".join(world.outputs + world.written_files())
    assert "acme-keeptrusts/alerts" in everything  # the scan does see the commands' output
    for value in (*issued, "sandbox-token", vault.server.root_token, HOOK_URL, HOOK_URL + "-v2"):
        assert value not in everything


# --- the Secret value type ------------------------------------------------------------------------------


def test_a_secret_never_shows_its_value() -> None:
    raw = f"whsec_{uuid.uuid4().hex}"
    secret = Secret(raw)
    record = SecretRecord(secret, "wh_1", "keeptrusts", "https://u:p@hooks.example/x", "2026-01-01T00:00:00Z")
    shown = [str(secret), repr(secret), f"{secret}", f"{secret!r}", f"{secret:>80}", "{} {!r}".format(secret, secret)]  # noqa: UP032
    shown += [repr(record), str(record), str(ValueError(secret)), str([secret]), str({"k": secret})]
    for text in shown:
        assert raw not in text
    assert str(secret) == f"Secret({REDACTED})"
    assert secret.reveal() == raw and secret == Secret(raw) and secret != Secret(raw + "x")
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    with pytest.raises(ValueError):
        Secret("")


def test_a_secret_logged_without_the_scrubber_is_still_redacted() -> None:
    raw = f"whsec_{uuid.uuid4().hex}"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)  # no ScrubFilter: the value type alone must hold
    logger = logging.getLogger(f"test.{uuid.uuid4().hex}")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.debug("created %s %r", Secret(raw), Secret(raw))
    logger.debug("record %s", SecretRecord(Secret(raw), "wh_1", "keeptrusts", "https://x", "2026-01-01T00:00:00Z"))
    assert raw not in stream.getvalue()
    assert REDACTED in stream.getvalue()
