"""An end-to-end world: the sandbox over loopback HTTP, a real keyring, manifests on disk, the real CLI."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hvac.exceptions
import keyring
import yaml

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from tests.fixtures.keyring_service import KeyringTestEnv
from tests.fixtures.vault_server import VaultServer

TOKEN_ENV = "SANDBOX_TOKEN"
VAULT_ADDR_ENV = "VAULT_ADDR"
VAULT_TOKEN_ENV = "VAULT_TOKEN"


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err


@dataclass
class World:
    sandbox: Sandbox
    keyring: KeyringTestEnv
    tmp: Path
    outputs: list[str] = field(default_factory=list)  # every byte the CLI printed, for leak scans
    watch: list[str] = field(default_factory=list)  # more values no output or file may hold (e.g. a Vault token)

    @property
    def service(self) -> str:
        return self.keyring.service

    def org(self, name: str, provider: str, webhooks: list[dict[str, Any]], **options: Any) -> dict[str, Any]:
        return {
            "name": name,
            "provider": provider,
            "base_url": self.sandbox.base_url(provider, account=name),
            "token": "${env:" + TOKEN_ENV + "}",
            "secret_store": "desktop",
            **options,
            "webhooks": webhooks,
        }

    def write(self, orgs: list[dict[str, Any]], name: str = "webhooks.yaml", **top: Any) -> Path:
        doc = {
            "version": 1,
            "secret_stores": {"desktop": {"type": "keyring", "service": self.service}},
            **top,
            "organizations": orgs,
        }
        path = self.tmp / name
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        return path

    def run(self, *args: str | Path) -> Result:
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main([str(a) for a in args])
        self.outputs += [out.getvalue(), err.getvalue()]
        return Result(code, out.getvalue(), err.getvalue())

    def live(self, provider: str, org: str) -> list[dict[str, Any]]:
        return self.sandbox.webhooks(provider, account=org)

    def stored(self, org: str, webhook: str) -> str | None:
        value: str | None = keyring.get_password(self.service, f"{org}/{webhook}")
        return value

    def written_files(self) -> list[str]:
        return [p.read_text(errors="replace") for p in self.tmp.rglob("*") if p.is_file()]

    def assert_no_secret_leaked(self) -> None:
        everything = "\n".join(self.outputs + self.written_files())
        for secret in self.sandbox.secrets():
            assert secret not in everything
        assert os.environ[TOKEN_ENV] not in everything
        for value in self.watch:
            assert value not in everything

    def current_secret(self, provider: str, org: str, webhook_id: str) -> str:
        """The secret the sandbox signs this webhook's deliveries with now."""
        (hook,) = [h for h in self.live(provider, org) if h["id"] == webhook_id]
        value: str = hook["signingKey"] if provider == "immuta" else hook["secret"]
        return value


@dataclass
class VaultView:
    """A `team-vault` store on a real OpenBao, under a path unique to the test, read back raw with hvac."""

    server: VaultServer
    path: str
    mount: str = "secret"

    def stores(self) -> dict[str, Any]:
        """A `secret_stores` section: address and token come from ${env:VAULT_ADDR} / ${env:VAULT_TOKEN}."""
        return {
            "team-vault": {
                "type": "vault",
                "address": "${env:" + VAULT_ADDR_ENV + "}",
                "token": "${env:" + VAULT_TOKEN_ENV + "}",
                "mount": self.mount,
                "path": self.path,
            }
        }

    def read(self, *parts: str) -> dict[str, Any] | None:
        """The latest data at `<mount>/data/<path>/<parts>`, or None when there is none."""
        try:
            response = self.server.client().secrets.kv.v2.read_secret_version(
                path="/".join((self.path, *parts)), mount_point=self.mount, raise_on_deleted_version=True
            )
        except hvac.exceptions.InvalidPath:
            return None
        data: dict[str, Any] = response["data"]["data"]
        return data
