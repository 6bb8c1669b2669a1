"""`make demo`: the sandbox, a private keyring, and the main job — plan, apply, change, plan again.

Runs the real CLI in subprocesses, as a user or a pipeline would, and prints each command first.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from reconciler.devtools.keyring_session import KeyringSession, start_keyring_session
from reconciler.providers.capabilities import PROVIDER_NAMES
from reconciler.sandbox import DEFAULT_PORT, TOKEN_ENV, URL_ENV, Sandbox
from reconciler.sandbox.registry import spec_for

DEMO_DIR = Path(".demo")
BY_HAND = DEMO_DIR / "by-hand" / "webhooks.yaml"  # for README's "Try it by hand"
SERVICE = "webhook-reconciler-demo"

HOOKS: dict[str, list[tuple[str, str, list[str] | None]]] = {
    "ingate": [("finance-alerts", "https://hooks.acme.example/ingate/finance", ["budget.warning", "budget.exceeded"])],
    "infraaudit": [
        ("drift-events", "https://hooks.acme.example/infraaudit/drift", ["drift.detected", "drift.resolved"])
    ],
    "keeptrusts": [("blocked-events", "https://hooks.acme.example/keeptrusts/blocked", ["event.blocked"])],
    "immuta": [("governance", "https://hooks.acme.example/immuta/requests", None)],
    "encrata": [("credits", "https://hooks.acme.example/encrata/credits", ["credits.low", "credits.exhausted"])],
}


def manifest(base_url: Callable[[str], str], *, changed: bool, header: str = "") -> str:
    lines = [
        "# Written by `make demo`: one organization per provider, all on the local sandbox.",
        *header.splitlines(),
        "version: 1",
        "secret_stores:",
        "  desktop:",
        "    type: keyring",
        f"    service: {SERVICE}",
        "organizations:",
    ]
    for provider in PROVIDER_NAMES:
        lines += [
            f"  - name: acme-{provider}",
            f"    provider: {provider}",
            f"    base_url: {base_url(provider)}",
            f"    token: ${{env:{TOKEN_ENV}}}",
            "    secret_store: desktop",
            "    prune: true",
            "    webhooks:",
        ]
        for name, url, events in HOOKS[provider]:
            if changed and events:
                events = [*events[:1]]  # the change: fewer events
            lines += [f"      - name: {name}", f"        url: {url}"]
            if events:
                lines.append(f"        events: [{', '.join(events)}]")
        if changed and provider == "ingate":
            lines += [
                "      - name: key-audit",
                "        url: https://hooks.acme.example/ingate/keys",
                "        events: [key.create, key.revoke]",
            ]
    return "\n".join(lines) + "\n"


def step(title: str, args: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> None:
    heading = f"\033[1m== {title}\033[0m" if sys.stdout.isatty() and "NO_COLOR" not in os.environ else f"== {title}"
    print(f"\n{heading}\n$ reconciler {shlex.join(args)}", flush=True)
    code = subprocess.run([sys.executable, "-m", "reconciler", *args], env=env, check=False).returncode
    print(f"(exit {code})", flush=True)
    if code not in ok:
        raise SystemExit(f"demo step failed: reconciler {shlex.join(args)} exited {code}")


def keyring_env(tmp: str) -> tuple[dict[str, str], KeyringSession | None]:
    """A private gnome-keyring when one can be started (headless machines, CI); else the OS keyring."""
    if shutil.which("gnome-keyring-daemon") and shutil.which("dbus-daemon"):
        session = start_keyring_session(Path(tmp))
        return dict(session.env), session
    return {}, None


def main() -> int:
    shutil.rmtree(DEMO_DIR, ignore_errors=True)
    (DEMO_DIR / "manifests").mkdir(parents=True)
    path = DEMO_DIR / "manifests" / "acme.yaml"
    with tempfile.TemporaryDirectory(prefix="reconciler-demo-") as tmp, Sandbox(port=0).start() as sandbox:
        extra, session = keyring_env(tmp)
        env = {**os.environ, **extra, "SANDBOX_TOKEN": "sandbox-token", "NO_COLOR": "1"}
        try:
            print("The sandbox serves all five APIs on loopback:")
            for provider in PROVIDER_NAMES:
                print(f"  {provider} {sandbox.base_url(provider)}")
            path.write_text(manifest(sandbox.base_url, changed=False))
            print(f"\nManifest: {path}")
            step("Validate (no network)", ["validate", str(path.parent)], env)
            step("Plan: everything is new", ["plan", str(path.parent)], env)
            step("Apply: create the webhooks, store each secret", ["apply", str(path.parent), "--auto-approve"], env)
            path.write_text(manifest(sandbox.base_url, changed=True))
            print(f"\nChanged {path}: fewer events everywhere, one more Ingate webhook.")
            step("Plan: field-level diff", ["plan", str(path.parent)], env)
            step("Apply the change", ["apply", str(path.parent), "--auto-approve"], env)
            step(
                "Plan again: nothing left to do (exit 0 with --detailed-exitcode)",
                ["plan", str(path.parent), "--detailed-exitcode"],
                env,
            )
            step("Drift check, as a nightly job runs it (exit 0 in sync, 2 drifted)", ["drift", str(path.parent)], env)
            print("\n== Where the secrets went (values never printed):")
            show_secrets(env)
        finally:
            if session is not None:
                session.stop()
    write_by_hand()
    return 0


def write_by_hand() -> None:
    """The demo's sandbox and keyring are gone now; leave a manifest for the ones README's "Try it by hand"
    starts: `reconciler sandbox --keyring --env-file FILE` writes SANDBOX_URL and SANDBOX_TOKEN to FILE."""
    BY_HAND.parent.mkdir(parents=True, exist_ok=True)
    # Any port works: the sandbox exports its own URL; the paths after it are the provider's.
    header = (
        f"# For a sandbox started by hand (README: Try it by hand): `reconciler sandbox --keyring --env-file FILE`\n"
        f"# writes {URL_ENV} (http://127.0.0.1:{DEFAULT_PORT} by default) and {TOKEN_ENV} to FILE; `. FILE` sets them."
    )
    BY_HAND.write_text(
        manifest(lambda p: f"${{env:{URL_ENV}}}/{p}{spec_for(p).base_suffix}", changed=False, header=header)
    )
    print(f"\nThe demo's sandbox and keyring are stopped. To try it by hand (README: Try it by hand): {BY_HAND}")


def show_secrets(env: dict[str, str]) -> None:
    names = [(f"acme-{p}", name) for p in PROVIDER_NAMES for name, _, _ in HOOKS[p]]
    names.append(("acme-ingate", "key-audit"))
    for org, hook in names:
        username = f"{org}/{hook}"
        found = (
            subprocess.run(
                ["secret-tool", "lookup", "service", SERVICE, "username", username],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            if shutil.which("secret-tool")
            else None
        )
        status = f"stored ({len(found.stdout)} characters)" if found and found.stdout else "see your OS keyring"
        print(f"  keyring service={SERVICE} username={username}: {status}")


if __name__ == "__main__":
    sys.exit(main())
