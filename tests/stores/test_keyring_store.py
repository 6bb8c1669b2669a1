"""KeyringStore against a real Secret Service (gnome-keyring on a private D-Bus)."""

# keyring's backend constructors carry no annotations.
# mypy: disable-error-code="no-untyped-call"

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import SecretService, chainer, fail, null

from reconciler.core.errors import SecretStoreError
from reconciler.core.model import IndexEntry, StoreConfig
from reconciler.devtools.keyring_session import KeyringSession, start_keyring_session
from reconciler.stores.keyring import KeyringStore, refusal
from tests.fixtures.keyring_service import KeyringTestEnv
from tests.stores.records import SECRET, record

# For backends that never reach a real keyring.
UNSAFE = StoreConfig(name="desktop", type="keyring", service="reconciler-test-unsafe")


def lookup(env: KeyringTestEnv, username: str) -> str | None:
    """What `secret-tool` (libsecret, not Python keyring) finds: proves where a value really landed."""
    result = subprocess.run(
        ["secret-tool", "lookup", "service", env.service, "username", username],
        env=dict(env.env),
        capture_output=True,
        text=True,
        timeout=10,
    )
    return result.stdout if result.returncode == 0 else None


def store_of(env: KeyringTestEnv) -> KeyringStore:
    return KeyringStore(env.config())


def test_round_trip(keyring_store_env: KeyringTestEnv) -> None:
    store = store_of(keyring_store_env)
    assert store.read("acme", "finance") is None
    store.write("acme", "finance", record())
    assert store.read("acme", "finance") == record()
    store.write("acme", "finance", record("whsec_rotated", rotated_at="2026-03-01T00:00:00Z", protect=True))
    assert store.read("acme", "finance") == record("whsec_rotated", rotated_at="2026-03-01T00:00:00Z", protect=True)
    store.delete("acme", "finance")
    assert store.read("acme", "finance") is None
    assert lookup(keyring_store_env, "acme/finance") is None
    assert lookup(keyring_store_env, "acme/finance#meta") is None


def test_deleting_a_missing_record_is_fine(keyring_store_env: KeyringTestEnv) -> None:
    store_of(keyring_store_env).delete("acme", "never-written")


def test_layout_seen_by_secret_tool(keyring_store_env: KeyringTestEnv) -> None:
    store_of(keyring_store_env).write("acme", "finance", record())
    assert lookup(keyring_store_env, "acme/finance") == SECRET
    meta = json.loads(lookup(keyring_store_env, "acme/finance#meta") or "")
    assert meta == {
        "webhook_id": "wh_123",
        "provider": "ingate",
        "url": "https://hooks.acme.example/ingate/finance",
        "created_at": "2026-01-02T03:04:05Z",
    }


def test_layout_carries_rotation_and_protect(keyring_store_env: KeyringTestEnv) -> None:
    store_of(keyring_store_env).write("acme", "finance", record(rotated_at="2026-03-01T00:00:00Z", protect=True))
    meta = json.loads(lookup(keyring_store_env, "acme/finance#meta") or "")
    assert meta["rotated_at"] == "2026-03-01T00:00:00Z"
    assert meta["protect"] is True


def test_location(keyring_store_env: KeyringTestEnv) -> None:
    location = store_of(keyring_store_env).location("acme", "finance")
    assert location == f"keyring service={keyring_store_env.service} username=acme/finance"


def test_index_round_trip_and_layout(keyring_store_env: KeyringTestEnv) -> None:
    store = store_of(keyring_store_env)
    assert store.read_index("acme") is None
    index = {"finance": IndexEntry("wh_1", protect=True), "audit": IndexEntry("wh_2")}
    store.write_index("acme", index)
    assert store.read_index("acme") == index
    assert json.loads(lookup(keyring_store_env, "acme/_index") or "") == {
        "audit": {"webhook_id": "wh_2", "protect": False},
        "finance": {"webhook_id": "wh_1", "protect": True},
    }


def test_index_read_tolerates_bare_ids(keyring_store_env: KeyringTestEnv) -> None:
    text = json.dumps({"finance": "wh_1", "audit": {"webhook_id": "wh_2", "protect": True}})
    keyring.set_password(keyring_store_env.service, "acme/_index", text)
    assert store_of(keyring_store_env).read_index("acme") == {
        "finance": IndexEntry("wh_1"),
        "audit": IndexEntry("wh_2", protect=True),
    }


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '{"finance": 3}'])
def test_unreadable_index_is_none(keyring_store_env: KeyringTestEnv, text: str) -> None:
    keyring.set_password(keyring_store_env.service, "acme/_index", text)
    assert store_of(keyring_store_env).read_index("acme") is None


def test_unreadable_metadata_fails_clearly_without_the_secret(keyring_store_env: KeyringTestEnv) -> None:
    store = store_of(keyring_store_env)
    store.write("acme", "finance", record())
    keyring.set_password(keyring_store_env.service, "acme/finance#meta", "{broken")
    with pytest.raises(SecretStoreError, match="acme/finance is unreadable") as caught:
        store.read("acme", "finance")
    assert SECRET not in str(caught.value)


def test_metadata_without_secret_reads_as_missing(keyring_store_env: KeyringTestEnv) -> None:
    store = store_of(keyring_store_env)
    store.write("acme", "finance", record())
    keyring.delete_password(keyring_store_env.service, "acme/finance")
    assert store.read("acme", "finance") is None


def test_preflight_passes_and_leaves_nothing(keyring_store_env: KeyringTestEnv) -> None:
    store_of(keyring_store_env).preflight()
    listing = subprocess.run(
        ["secret-tool", "search", "--all", "service", keyring_store_env.service],
        env=dict(keyring_store_env.env),
        capture_output=True,
        text=True,
        timeout=10,
    )
    assert "_preflight" not in listing.stdout + listing.stderr


class PlaintextKeyring(KeyringBackend):
    """Stands in for keyrings.alt.file.PlaintextKeyring (not installed here): only its identity matters."""

    __module__ = "keyrings.alt.file"
    priority = 0.5

    def get_password(self, service: str, username: str) -> str | None:
        raise AssertionError("preflight must refuse before using the backend")

    set_password = delete_password = get_password  # type: ignore[assignment]


class ForgetfulKeyring(KeyringBackend):
    """A fault no real daemon produces on demand: writes are accepted and lost."""

    priority = 1

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        pass

    def delete_password(self, service: str, username: str) -> None:
        pass


class EchoingKeyring(ForgetfulKeyring):
    """A fault: a backend whose error message repeats the password it was given."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError(f"cannot store {password!r}")


def plaintext_backend() -> KeyringBackend:
    try:
        from keyrings.alt.file import PlaintextKeyring as Real  # type: ignore[import-not-found]
    except ImportError:
        return PlaintextKeyring()
    return Real()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("backend", "reason"),
    [
        (null.Keyring(), "null"),
        (fail.Keyring(), "fail"),
        (plaintext_backend(), "file on disk"),
    ],
    ids=["null", "fail", "plaintext"],
)
def test_preflight_refuses_unsafe_backends(backend: KeyringBackend, reason: str) -> None:
    store = KeyringStore(UNSAFE, backend=backend)
    with pytest.raises(SecretStoreError) as caught:
        store.preflight()
    message = str(caught.value)
    assert reason in message
    assert "PYTHON_KEYRING_BACKEND" in message and "vault" in message


def test_refusal_looks_inside_a_chainer(keyring_store_env: KeyringTestEnv) -> None:
    class Chain(chainer.ChainerBackend):
        backends = (SecretService.Keyring(), plaintext_backend())

    assert "file on disk" in (refusal(Chain()) or "")
    assert refusal(SecretService.Keyring()) is None


def test_preflight_refuses_a_backend_that_loses_secrets() -> None:
    store = KeyringStore(UNSAFE, backend=ForgetfulKeyring())
    with pytest.raises(SecretStoreError, match="did not read back"):
        store.preflight()


def test_backend_error_never_carries_the_secret() -> None:
    store = KeyringStore(UNSAFE, backend=EchoingKeyring())
    with pytest.raises(SecretStoreError) as caught:
        store.write("acme", "finance", record())
    assert "could not write service=reconciler-test-unsafe username=acme/finance" in str(caught.value)
    assert SECRET not in str(caught.value)
    assert caught.value.__suppress_context__  # the backend's own message stays out of any traceback


def test_a_stopped_secret_service_fails_clearly(
    keyring_session: KeyringSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    with start_keyring_session() as session:  # a throwaway one, stopped below
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", session.bus_address)
        store = KeyringStore(UNSAFE, backend=SecretService.Keyring())
        store.write("acme", "finance", record())
    with pytest.raises(SecretStoreError, match="keyring store 'desktop': could not write") as caught:
        store.write("acme", "finance", record())
    assert SECRET not in str(caught.value)


def test_eight_threads_share_the_store(keyring_store_env: KeyringTestEnv) -> None:
    store = store_of(keyring_store_env)

    def work(n: int) -> bool:
        for i in range(3):
            hook = f"hook-{n}-{i}"
            store.write("acme", hook, record(f"whsec_{n}_{i}", webhook_id=f"wh_{n}_{i}"))
            if store.read("acme", hook) != record(f"whsec_{n}_{i}", webhook_id=f"wh_{n}_{i}"):
                return False
            store.read_index("acme")
        return True

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(8)))


def test_reprs_hold_no_secret(keyring_store_env: KeyringTestEnv) -> None:
    store = store_of(keyring_store_env)
    store.write("acme", "finance", record())
    stored = store.read("acme", "finance")
    assert SECRET not in repr(stored) and SECRET not in str(stored)
    assert SECRET not in repr(store)


def test_a_subprocess_uses_the_session_through_its_env(keyring_store_env: KeyringTestEnv) -> None:
    store_of(keyring_store_env).write("acme", "finance", record())
    code = "import sys, keyring; print(keyring.get_password(sys.argv[1], 'acme/finance'))"
    out = subprocess.run(
        [sys.executable, "-c", code, keyring_store_env.service],
        env=dict(keyring_store_env.env),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert out.strip() == SECRET


def test_the_module_entry_prints_exports_and_serves_until_killed(keyring_session: KeyringSession) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "reconciler.devtools.keyring_session"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().strip() for _ in range(2)]
        env = dict(line.removeprefix("export ").split("=", 1) for line in lines)
        assert env["PYTHON_KEYRING_BACKEND"] == "keyring.backends.SecretService.Keyring"
        address = env["DBUS_SESSION_BUS_ADDRESS"].strip("'")
        stored = subprocess.run(
            ["secret-tool", "store", "--label", "probe", "service", "s", "username", "u"],
            input="v",
            env={"DBUS_SESSION_BUS_ADDRESS": address, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=10,
        )
        assert stored.returncode == 0, stored.stderr
        assert process.poll() is None
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
