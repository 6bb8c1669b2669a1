"""contract §8: the example provider plugin (examples/plugins/hookrelay), installed with pip beside the tool, runs its
whole lifecycle against the sandbox, which serves its emulator; without it, the error lists what is installed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from tests.e2e.world import World

PLUGIN = Path(__file__).parents[2] / "examples" / "plugins" / "hookrelay"
TOKEN = "sandbox-token"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The plugin installed by pip into a folder of its own (a test must not change the shared venv)."""
    target = tmp_path_factory.mktemp("plugin-site")
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources, and a stale build/ in the
    # checkout would be type-checked (and fail) on the next `make test`.
    source = tmp_path_factory.mktemp("plugin-source") / "hookrelay"
    shutil.copytree(PLUGIN, source, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
    subprocess.run(
        [*pip, "--target", str(target), str(source)],
        check=True,
        capture_output=True,
        text=True,
    )
    return target


def environment(world: World, site: Path | None) -> dict[str, str]:
    env = {
        **world.keyring.env,
        "PLUGIN_TOKEN": TOKEN,
        "XDG_STATE_HOME": os.environ["XDG_STATE_HOME"],
        "XDG_RUNTIME_DIR": os.environ["XDG_RUNTIME_DIR"],
        "NO_COLOR": "1",
    }
    env.pop("PYTHONPATH", None)
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return env


@pytest.fixture
def sandbox_urls(world: World, site: Path) -> Iterator[dict[str, str]]:
    """`reconciler sandbox` in a process that has the plugin: provider -> base URL, as it prints them."""
    child = subprocess.Popen(
        [sys.executable, "-m", "reconciler", "sandbox", "--port", "0"],
        env=environment(world, site),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        lines = [child.stdout.readline().split() for _ in range(6)]
        yield {provider: url for provider, url in lines}
    finally:
        child.terminate()
        child.communicate(timeout=30)


def run(world: World, site: Path | None, *args: str) -> tuple[int, str]:
    done = subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        env=environment(world, site),
        capture_output=True,
        text=True,
        timeout=60,
    )
    world.outputs += [done.stdout, done.stderr]
    return done.returncode, done.stdout + done.stderr


def manifest(world: World, base_url: str, hooks: list[dict[str, Any]]) -> str:
    org = {"name": "acme-relay", "provider": "hookrelay", "base_url": base_url, "token": "${env:PLUGIN_TOKEN}",
           "secret_store": "desktop", "prune": True, "webhooks": hooks}
    doc = {"version": 1, "secret_stores": {"desktop": {"type": "keyring", "service": world.service}},
           "organizations": [org]}
    path = world.tmp / "relay.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return str(path)


def conforms(schema: str, document: Any) -> None:
    """Reports about a plugin's orgs follow the published schemas too."""
    published = json.loads((Path(__file__).parents[2] / "schemas" / schema).read_text())
    jsonschema.Draft202012Validator(published).validate(document)


def live(base_url: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(f"{base_url}/api/v2/hooks", headers={"Authorization": f"Bearer {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        hooks: list[dict[str, Any]] = json.load(answer)["hooks"]
    return hooks


def test_the_sandbox_serves_an_installed_plugin_after_the_built_ins(sandbox_urls: dict[str, str]) -> None:
    assert list(sandbox_urls) == ["ingate", "infraaudit", "keeptrusts", "immuta", "encrata", "hookrelay"]


def test_a_plugin_provider_runs_its_whole_lifecycle(world: World, site: Path, sandbox_urls: dict[str, str]) -> None:
    base = sandbox_urls["hookrelay"]
    hooks = [{"name": "sent", "url": "https://hooks.acme.example/relay/sent", "events": ["message.sent"]}]
    path = manifest(world, base, hooks)
    assert run(world, site, "validate", path) == (0, "Valid: 1 organization(s), 1 webhook(s) in 1 file(s).\n")
    code, text = run(world, site, "plan", path)
    assert code == 0 and "+ sent" in text and "Plan: 1 to create" in text, text
    code, text = run(world, site, "apply", path, "--auto-approve")
    assert code == 0 and "Apply complete: 1 created" in text, text
    (hook,) = live(base)
    assert hook["name"] == "sent" and hook["topics"] == ["message.sent"]
    first = world.stored("acme-relay", "sent")
    assert first is not None
    assert run(world, site, "plan", path, "--detailed-exitcode")[0] == 0
    code, text = run(world, site, "drift", path, "--format", "json")
    assert code == 0 and json.loads(text)["organizations"][0]["provider"] == "hookrelay", text
    conforms("drift.schema.json", json.loads(text))

    changed = manifest(world, base, [{**hooks[0], "events": ["message.sent", "message.failed"], "active": False}])
    saved = str(world.tmp / "plan.json")
    assert run(world, site, "plan", changed, "-o", saved)[0] == 0
    conforms("plan.schema.json", json.loads(Path(saved).read_text()))
    code, text = run(world, site, "apply", "--plan", saved)  # a saved plan of a plugin's org is a valid plan
    assert code == 0 and "1 updated" in text, text
    (hook,) = live(base)
    assert hook["paused"] is True and sorted(hook["topics"]) == ["message.failed", "message.sent"]

    code, text = run(world, site, "rotate", changed, "acme-relay/sent")
    assert code == 0 and "secret rotated in place" in text, text
    assert world.stored("acme-relay", "sent") not in (None, first)
    assert run(world, site, "drift", changed)[0] == 0

    importing = ("--provider", "hookrelay", "--base-url", base, "--token-env", "PLUGIN_TOKEN", "--org", "acme-relay")
    code, text = run(world, site, "import", *importing)
    assert code == 0, text
    imported = yaml.safe_load(text)
    assert imported["organizations"][0]["provider"] == "hookrelay"
    assert [h["name"] for h in imported["organizations"][0]["webhooks"]] == ["sent"]

    code, text = run(world, site, "apply", manifest(world, base, []), "--auto-approve", "--allow-deletes")
    assert code == 0 and "1 deleted" in text, text
    assert live(base) == [] and world.stored("acme-relay", "sent") is None


def test_without_the_plugin_the_error_lists_what_is_installed(world: World) -> None:
    path = manifest(world, "https://api.hookrelay.example", [{"name": "sent", "url": "https://hooks.acme.example/x"}])
    code, text = run(world, None, "validate", path)
    assert code == 1
    assert (
        "'provider' must be one of the installed providers: ingate, infraaudit, keeptrusts, immuta, encrata" in text
    ), text
    assert "Traceback" not in text


KIT = """
import json, sys
from reconciler.devtools.conformance import differences, lifecycle
from webhook_reconciler_hookrelay.plugin import CAPABILITIES
from webhook_reconciler_hookrelay.emulator import FACTS
print(json.dumps([differences(CAPABILITIES, FACTS), lifecycle("hookrelay", sys.argv[1], "sandbox-token")]))
"""


def test_the_plugin_passes_the_conformance_kit(world: World, site: Path, sandbox_urls: dict[str, str]) -> None:
    """What a plugin author runs (README "Writing a provider"): its capabilities against its emulator's facts,
    and its adapter through a webhook's life against the emulator."""
    done = subprocess.run(
        [sys.executable, "-c", KIT, sandbox_urls["hookrelay"]],
        env=environment(world, site),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == [[], []]


def test_the_plugins_emulator_loads_nothing_of_the_product_but_the_sandbox(world: World, site: Path) -> None:
    """An emulator is a check only while it is written apart from the product's tables: loading the plugin's
    emulator (as `reconciler sandbox` does, through its entry point) imports no product module."""
    code = (
        "import sys\n"
        "from importlib.metadata import entry_points\n"
        "(point,) = [p for p in entry_points(group='webhook_reconciler.emulators') if p.name == 'hookrelay']\n"
        "point.load()\n"
        "loaded = [m for m in sys.modules if m.startswith('reconciler') and not m.startswith('reconciler.sandbox')]\n"
        "print(sorted(loaded))\n"
    )
    env = environment(world, site)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "['reconciler']"  # the package itself, an empty __init__
