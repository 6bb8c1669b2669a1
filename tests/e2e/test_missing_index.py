"""contract §5: when an org's index record is missing or unreadable, the per-webhook records answer instead, and
apply rewrites it. A protected webhook stays protected even when the index that named it is gone."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keyring
import pytest

from tests.e2e.test_lifecycle import hook
from tests.e2e.world import VAULT_TOKEN_ENV, VaultView, World
from tests.fixtures.keyring_service import MemoryKeyring

ORG = "acme"
PROVIDER = "ingate"

StoreSetup = tuple[dict[str, Any] | None, Callable[[], Any], Callable[[str], None]]


def keyring_setup(world: World) -> StoreSetup:
    def read_index() -> Any:
        text = keyring.get_password(world.service, f"{ORG}/_index")
        return None if text is None else json.loads(text)

    def break_index(how: str) -> None:
        if how == "missing":
            keyring.delete_password(world.service, f"{ORG}/_index")
        else:
            keyring.set_password(world.service, f"{ORG}/_index", "{not json")

    return None, read_index, break_index


def vault_setup(vault: VaultView) -> StoreSetup:
    def break_index(how: str) -> None:
        client: Any = vault.server.client()
        path = f"{vault.path}/{ORG}/_index"
        if how == "missing":
            client.secrets.kv.v2.delete_metadata_and_all_versions(path=path, mount_point=vault.mount)
        else:
            client.secrets.kv.v2.create_or_update_secret(path=path, secret={"x": 1}, mount_point=vault.mount)

    return vault.stores(), lambda: vault.read(ORG, "_index"), break_index


@pytest.fixture(params=["keyring", "vault"])
def store(request: pytest.FixtureRequest, world: World) -> StoreSetup:
    if request.param == "keyring":
        return keyring_setup(world)
    return vault_setup(request.getfixturevalue("vault"))


def write(world: World, stores: dict[str, Any] | None, webhooks: list[dict[str, Any]]) -> Path:
    options: dict[str, Any] = {"prune": True}
    if stores is not None:
        options["secret_store"] = "team-vault"
    org = world.org(ORG, PROVIDER, webhooks, **options)
    return world.write([org], secret_stores=stores) if stores is not None else world.write([org])


@pytest.mark.parametrize("how", ["missing", "unreadable"])
def test_the_records_answer_and_apply_rewrites_the_index(world: World, store: StoreSetup, how: str) -> None:
    stores, read_index, break_index = store
    path = write(world, stores, [hook(PROVIDER), hook(PROVIDER, "pager", "pager")])
    assert world.run("apply", path, "--auto-approve").code == 0
    index = read_index()
    break_index(how)

    assert world.run("plan", path, "--detailed-exitcode").code == 0  # the same webhooks, nothing to change
    applied = world.run("apply", path, "--auto-approve")
    assert applied.code == 0, applied.text
    assert f"{ORG}: the index record was missing or unreadable; rewritten" in applied.out
    assert "No changes" in applied.out
    assert read_index() == index


def test_a_protected_webhook_stays_protected_without_its_index(world: World, store: StoreSetup) -> None:
    """The index named the protected webhook; the manifest no longer does. Its record still says so."""
    stores, _, break_index = store
    path = write(world, stores, [hook(PROVIDER), {**hook(PROVIDER, "keys", "keys"), "protect": True}])
    assert world.run("apply", path, "--auto-approve").code == 0
    break_index("missing")

    path = write(world, stores, [hook(PROVIDER)])
    refused = world.run("apply", path, "--auto-approve", "--allow-deletes")
    assert refused.code == 3, refused.text
    assert "refusing to delete protected webhook(s) keys" in refused.err
    assert len(world.live(PROVIDER, ORG)) == 2


def test_without_a_list_of_records_no_delete_is_risked(world: World) -> None:
    """A keyring that cannot list its items cannot show that a webhook no longer declared was not protected."""
    backend = MemoryKeyring()  # like macOS's or Windows' keyring: it cannot list its items
    keyring.set_keyring(backend)  # restored by the world fixture
    path = write(world, None, [hook(PROVIDER), hook(PROVIDER, "old", "old")])
    assert world.run("apply", path, "--auto-approve").code == 0
    backend.delete_password(world.service, f"{ORG}/_index")

    path = write(world, None, [hook(PROVIDER)])
    plan = world.run("plan", path)
    assert "? the index record is missing and the store cannot list its records" in plan.out
    refused = world.run("apply", path, "--auto-approve", "--allow-deletes")
    assert refused.code == 3, refused.text
    old = next(h["id"] for h in world.live(PROVIDER, ORG) if h["url"].endswith("/old"))
    assert f"cannot list its records, so webhook(s) {old} may be protected" in refused.err  # named by its id
    assert len(world.live(PROVIDER, ORG)) == 2


def test_a_vault_token_that_may_not_list_still_plans(world: World, vault: VaultView) -> None:
    """Without `list` on the metadata the records of declared webhooks answer; deletes are then refused."""
    client: Any = vault.server.client()
    policy = f'path "secret/data/{vault.path}/*" {{ capabilities = ["create", "read", "update", "delete"] }}\n'
    policy += f'path "secret/metadata/{vault.path}/*" {{ capabilities = ["read", "delete"] }}\n'
    client.sys.create_or_update_policy(name=f"nolist-{vault.path.replace('/', '-')}", policy=policy)
    stores, _, break_index = vault_setup(vault)
    path = write(world, stores, [hook(PROVIDER), hook(PROVIDER, "old", "old")])
    assert world.run("apply", path, "--auto-approve").code == 0
    break_index("missing")
    token = client.auth.token.create(policies=[f"nolist-{vault.path.replace('/', '-')}"], ttl="1h")["auth"][
        "client_token"
    ]
    world.watch.append(token)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(VAULT_TOKEN_ENV, token)
        assert world.run("plan", path, "--detailed-exitcode").code == 0
        path = write(world, stores, [hook(PROVIDER)])
        refused = world.run("apply", path, "--auto-approve", "--allow-deletes")
    assert refused.code == 3, refused.text
    assert "may be protected" in refused.err
