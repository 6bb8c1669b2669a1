"""Addressing the Secret Service's default collection by its own path rather than through its alias.

keyring's Secret Service backend opens a new D-Bus connection for every call and sends it to
`/org/freedesktop/secrets/aliases/default`. gnome-keyring (42, and its source today) resolves that alias on its
D-Bus worker thread (`rewrite_default_alias`) while its main thread frees and replaces the alias's value each time
a client connects (`update_default`, gkd-secret-service.c). With two processes on the keyring at once — two applies
on different orgs, as contract §5.1's per-org locks allow — the daemon reads freed memory: a call fails with
"Object does not exist at path /org/freedesktop/secrets/collection/_5d_a2_3c…". Asking once for the alias with the
service's `ReadAlias` method (answered on the main thread) and giving keyring the collection's own path keeps every
later call off that race. (The daemon's occasional abort under two concurrent clients, a GLib assertion, has
another cause inside it, which this does not remove.)
"""

from __future__ import annotations

import contextlib

from keyring.backend import KeyringBackend
from keyring.backends.chainer import ChainerBackend

_SERVICE = "org.freedesktop.secrets"
_SERVICE_PATH = "/org/freedesktop/secrets"
_SERVICE_INTERFACE = "org.freedesktop.Secret.Service"


def pin_default_collection(backend: KeyringBackend) -> None:
    """Give each Secret Service backend in `backend` the default collection's own path, unless it has one
    (`preferred_collection`, which keyring honours). Anything that goes wrong leaves the backend as it was, to
    fail, if it must, the way it always did."""
    from keyring.backends import SecretService

    members = list(getattr(backend, "backends", [])) if isinstance(backend, ChainerBackend) else [backend]
    for member in members:
        if isinstance(member, SecretService.Keyring) and not hasattr(member, "preferred_collection"):
            path = _default_collection_path()
            if path is not None:
                member.preferred_collection = path  # type: ignore[attr-defined]


def _default_collection_path() -> str | None:
    """The path the `default` alias names now; None if there is none ("/") or the service cannot say."""
    from jeepney import DBusAddress, new_method_call  # type: ignore[import-untyped]
    from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

    service = DBusAddress(_SERVICE_PATH, bus_name=_SERVICE, interface=_SERVICE_INTERFACE)
    with contextlib.suppress(Exception), open_dbus_connection(bus="SESSION") as connection:
        reply = connection.send_and_get_reply(new_method_call(service, "ReadAlias", "s", ("default",)), timeout=10)
        path = reply.body[0] if reply.body else "/"
        if isinstance(path, str) and path.startswith(f"{_SERVICE_PATH}/collection/"):
            return path
    return None
