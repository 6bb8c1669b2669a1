"""An end-to-end world: the sandbox over loopback HTTP, a real keyring, manifests on disk, the real CLI."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keyring
import yaml

from reconciler.cli import main
from reconciler.sandbox import Sandbox
from tests.fixtures.keyring_service import KeyringTestEnv

TOKEN_ENV = "SANDBOX_TOKEN"


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
