"""The keyring store addresses the default collection by its own path, off gnome-keyring's alias race
(reconciler/stores/secret_service.py), seen on the bus itself."""

# keyring's backend constructors carry no annotations, and `preferred_collection` is an attribute it reads if set.
# mypy: disable-error-code="no-untyped-call, attr-defined"

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import keyring.core
import pytest
from jeepney import DBusAddress, HeaderFields, new_method_call  # type: ignore[import-untyped]
from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]
from keyring.backends import SecretService, chainer

from reconciler.stores.keyring import KeyringStore
from reconciler.stores.secret_service import pin_default_collection
from tests.fixtures.keyring_service import KeyringTestEnv
from tests.stores.records import record

ALIASES = "/org/freedesktop/secrets/aliases/"
LOGIN = "/org/freedesktop/secrets/collection/login"
MONITORING = DBusAddress(
    "/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus.Monitoring"
)


@contextmanager
def calls_to_the_secret_service(bus_address: str) -> Iterator[Callable[[], list[str]]]:
    """A D-Bus monitor on the test's bus: yields a function returning the object paths of every method call
    sent to the Secret Service since the monitor started."""
    with open_dbus_connection(bus=bus_address) as monitor:
        rule = "type='method_call',destination='org.freedesktop.secrets'"
        monitor.send_and_get_reply(new_method_call(MONITORING, "BecomeMonitor", "asu", ([rule], 0)))

        def paths() -> list[str]:
            seen: list[str] = []
            while True:
                try:
                    message = monitor.receive(timeout=0.5)
                except TimeoutError:
                    return seen
                seen.append(str(message.header.fields.get(HeaderFields.path, "")))

        yield paths


def test_every_call_goes_to_the_collection_not_the_alias(
    keyring_store_env: KeyringTestEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A backend as keyring makes one (the fixture's is pinned already): the store must pin it itself.
    monkeypatch.setattr(keyring.core, "_keyring_backend", SecretService.Keyring())
    with calls_to_the_secret_service(keyring_store_env.session.bus_address) as paths:
        store = KeyringStore(keyring_store_env.config())
        store.preflight()
        store.write("acme", "finance", record())
        assert store.read("acme", "finance") == record()
        assert store.names("acme") == ["finance"]
        store.delete("acme", "finance")
        seen = paths()
    assert seen and not [path for path in seen if path.startswith(ALIASES)], seen
    assert any(path.startswith(LOGIN) for path in seen), seen


def test_a_backend_with_its_own_collection_keeps_it(keyring_store_env: KeyringTestEnv) -> None:
    backend = SecretService.Keyring()
    backend.preferred_collection = "/org/freedesktop/secrets/collection/session"
    pin_default_collection(backend)
    assert backend.preferred_collection == "/org/freedesktop/secrets/collection/session"


def test_a_secret_service_inside_keyrings_chainer_is_pinned(keyring_store_env: KeyringTestEnv) -> None:
    class Chain(chainer.ChainerBackend):
        backends = (SecretService.Keyring(),)

    pin_default_collection(Chain())
    assert Chain.backends[0].preferred_collection == LOGIN


def test_without_a_secret_service_the_backend_is_left_as_it_was(
    keyring_store_env: KeyringTestEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={keyring_store_env.session.directory}/no-bus")
    backend = SecretService.Keyring()
    pin_default_collection(backend)
    assert not hasattr(backend, "preferred_collection")
