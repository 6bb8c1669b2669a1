"""Issue 19: `validate --offline` needs no environment, and a field a provider cannot store is a warning once
per org (contract §2, §4). Run through the real CLI in a process with an empty environment, as a pre-commit hook
on a laptop runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from reconciler.manifest import load_manifests
from tests.manifest.util import ENV, problems, write

ROOT = Path(__file__).parents[2]
EXAMPLE = ROOT / "examples" / "manifests" / "acme.yaml"

WITH_REFERENCES = """\
version: 1
policy:
  allowed_hosts: [hooks.acme.example]
secret_stores:
  team-vault:
    type: vault
    address: ${env:VAULT_ADDR}
    token: ${env:VAULT_TOKEN}
organizations:
  - name: acme
    provider: ingate
    token: ${env:ACME_TOKEN}
    webhooks:
      - name: signed
        url: ${env:SIGNED_URL}
      - name: plain
        url: https://hooks.acme.example/plain
        events: [budget.warning]
"""


def reconciler(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI with no environment at all beyond PATH: no CI secrets, no keyring, no D-Bus."""
    env = {"PATH": os.environ["PATH"], "HOME": str(cwd)}
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def test_offline_turns_unset_variables_into_warnings_with_their_place(tmp_path: Path) -> None:
    write(tmp_path, "m.yaml", WITH_REFERENCES)
    online = reconciler("validate", "m.yaml", cwd=tmp_path)
    assert online.returncode == 1 and "m.yaml:12:12: organizations[0].token: environment variable 'ACME_TOKEN'" in (
        online.stderr
    )

    offline = reconciler("validate", "--offline", "m.yaml", cwd=tmp_path)
    assert offline.returncode == 0, offline.stderr
    assert offline.stdout == "Valid: 1 organization(s), 2 webhook(s) in 1 file(s), 4 warning(s).\n"
    skipped = "is not set; the checks that need its value are skipped"
    for place, name in [
        ("7:14", "VAULT_ADDR"),
        ("8:12", "VAULT_TOKEN"),
        ("12:12", "ACME_TOKEN"),
        ("15:14", "SIGNED_URL"),
    ]:
        assert f"m.yaml:{place}: warning: " in offline.stderr and f"'{name}' {skipped}" in offline.stderr
    assert "Traceback" not in offline.stderr


def test_offline_still_reports_every_other_problem(tmp_path: Path) -> None:
    bad = WITH_REFERENCES.replace("events: [budget.warning]", "events: [budget.warnign]").replace(
        "https://hooks.acme.example/plain", "https://evil.example/plain"
    )
    write(tmp_path, "m.yaml", bad)
    result = reconciler("validate", "--offline", "m.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert (
        "m.yaml:18:18: organizations[0].webhooks[1].events[0]: unknown ingate event 'budget.warnign'" in result.stderr
    )
    assert "m.yaml:17:14: " in result.stderr and "allowed_hosts" in result.stderr  # the policy still applies
    assert "m.yaml:12:12: warning: organizations[0].token: environment variable 'ACME_TOKEN'" in result.stderr
    assert "error: 2 problem(s) in the manifests" in result.stderr
    # Offline is validate's alone: a command that talks to an API needs the values.
    assert reconciler("plan", "m.yaml", cwd=tmp_path).returncode == 1


def test_the_example_manifest_and_the_pre_commit_hook_validate_without_secrets(tmp_path: Path) -> None:
    # The command the example's own comment gives, word for word.
    comment = next(line for line in EXAMPLE.read_text().splitlines() if "reconciler validate" in line)
    args = comment.split("reconciler ", 1)[1].split()
    assert "--offline" in args
    result = reconciler(*args, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert "warning: " in result.stderr and "description" not in result.stderr  # fields only where they go

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "reconciler-validate"]
    entry = hook["entry"].split()
    assert entry[:3] == ["reconciler", "validate", "--offline"]
    (tmp_path / "webhooks").mkdir()
    write(tmp_path, "webhooks/acme.yaml", WITH_REFERENCES)
    assert reconciler(*entry[1:], "webhooks/", cwd=tmp_path).returncode == 0


DESCRIBED = """\
version: 1
organizations:
  - name: {name}
    provider: {provider}
    base_url: https://api.example
    token: ${{env:TOKEN}}
    webhooks:
      - name: first
        url: https://h.example/1
      - name: second
        url: https://h.example/2
        description: Second one
      - name: third
        url: https://h.example/3
        description: Third one
"""


def test_description_where_the_provider_has_no_field_is_one_warning_per_org(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", DESCRIBED.format(name="acme-ingate", provider="ingate"))
    write(tmp_path, "b.yaml", DESCRIBED.format(name="acme-encrata", provider="encrata"))
    write(tmp_path, "c.yaml", DESCRIBED.format(name="acme-keeptrusts", provider="keeptrusts"))
    manifest = load_manifests([str(tmp_path)], ENV)
    warnings = [str(w) for w in manifest.warnings]
    assert warnings == [
        f"{tmp_path}/a.yaml:12:9: organizations[0]: 'description' of webhook(s) second, third stays in the manifest "
        "only: ingate has no description field (only encrata stores it)",
        f"{tmp_path}/c.yaml:12:9: organizations[0]: 'description' of webhook(s) second, third stays in the manifest "
        "only: keeptrusts has no description field (only encrata stores it)",
    ]
    assert manifest.org("acme-ingate").webhooks[1].description == "Second one"  # valid: it documents the webhook

    result = reconciler("validate", ".", cwd=tmp_path)
    assert result.returncode == 1  # TOKEN is not set in that process; with --offline it passes
    offline = reconciler("validate", "--offline", ".", cwd=tmp_path)
    assert offline.returncode == 0, offline.stderr
    assert offline.stderr.count("stays in the manifest only") == 2
    assert "a.yaml:12:9: warning: organizations[0]: 'description' of webhook(s) second, third" in offline.stderr


def test_warnings_are_shown_beside_the_problems(tmp_path: Path) -> None:
    text = DESCRIBED.format(name="acme", provider="ingate").replace("url: https://h.example/3", "url: ftp://h/3")
    write(tmp_path, "m.yaml", text)
    assert any("organizations[0].webhooks[2]: 'url'" in p for p in problems([str(tmp_path / "m.yaml")]))
    result = reconciler("validate", "--offline", "m.yaml", cwd=tmp_path)
    assert result.returncode == 1
    assert "warning: organizations[0]: 'description' of webhook(s) second, third" in result.stderr
