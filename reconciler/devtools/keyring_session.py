"""A private, unlocked Secret Service (gnome-keyring on its own session D-Bus) for the demo and the tests.

`python -m reconciler.devtools.keyring_session` starts one, prints `export NAME=value` lines, runs until killed.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType, TracebackType

SECRET_SERVICE = "org.freedesktop.secrets"
KEYRING_BACKEND = "keyring.backends.SecretService.Keyring"
PACKAGES = "gnome-keyring libsecret-tools dbus"


class KeyringSessionError(RuntimeError):
    """The daemons are missing or did not come up."""


class KeyringSession:
    """Two daemons and their temporary directory; `env` is what a client needs to use them."""

    def __init__(
        self, directory: Path, bus_address: str, processes: list[subprocess.Popen[bytes]], owns_directory: bool
    ) -> None:
        self.directory = directory
        self.bus_address = bus_address
        self._processes = processes
        self._owns_directory = owns_directory

    @property
    def env(self) -> dict[str, str]:
        """Variables for this process or a subprocess: the bus, and keyring's backend pinned to it."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.bus_address, "PYTHON_KEYRING_BACKEND": KEYRING_BACKEND}

    def alive(self) -> bool:
        return all(p.poll() is None for p in self._processes)

    def stop(self) -> None:
        """Stop both daemons (keyring first, then its bus) and remove the directory if we made it."""
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._processes.clear()
        if self._owns_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> KeyringSession:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"KeyringSession(bus_address={self.bus_address!r})"


def start_keyring_session(directory: Path | None = None, timeout: float = 10.0) -> KeyringSession:
    """Start dbus-daemon and an unlocked gnome-keyring-daemon; return once the Secret Service has an owner."""
    missing = [tool for tool in ("dbus-daemon", "gnome-keyring-daemon") if shutil.which(tool) is None]
    if missing:
        raise KeyringSessionError(f"{', '.join(missing)} not found: install the packages {PACKAGES}")
    owns_directory = directory is None
    directory = Path(tempfile.mkdtemp(prefix="reconciler-keyring-")) if directory is None else directory
    processes: list[subprocess.Popen[bytes]] = []
    session = KeyringSession(directory, "", processes, owns_directory)
    try:
        session.bus_address = _start_bus(directory, processes, timeout)
        _start_keyring(directory, session.bus_address, processes)
        _wait_for_owner(session, timeout)
    except BaseException:
        session.stop()
        raise
    return session


def _private_env(directory: Path) -> dict[str, str]:
    """Both daemons run with HOME and XDG dirs in our directory: gnome-keyring keeps its files there, and any
    daemon the bus activates on demand (a new, locked gnome-keyring) stays out of the user's real keyrings."""
    for name in ("data", "config", "cache", "run"):
        (directory / name).mkdir(mode=0o700, exist_ok=True)
    return {
        **os.environ,
        "HOME": str(directory),
        "XDG_DATA_HOME": str(directory / "data"),
        "XDG_CONFIG_HOME": str(directory / "config"),
        "XDG_CACHE_HOME": str(directory / "cache"),
        "XDG_RUNTIME_DIR": str(directory / "run"),
    }


def _start_bus(directory: Path, processes: list[subprocess.Popen[bytes]], timeout: float) -> str:
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1", f"--address=unix:path={directory}/bus"],
        stdin=subprocess.DEVNULL,
        env=_private_env(directory),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # it warns about fd limits it may not raise; nothing we act on
    )
    processes.append(bus)
    assert bus.stdout is not None
    # The address line is printed once the bus listens; a dead daemon gives EOF instead of hanging.
    address = bus.stdout.readline().decode().strip()
    if not address:
        raise KeyringSessionError(f"dbus-daemon exited (code {bus.wait(timeout)}) before printing its address")
    return address


def _start_keyring(directory: Path, bus_address: str, processes: list[subprocess.Popen[bytes]]) -> None:
    env = {**_private_env(directory), "DBUS_SESSION_BUS_ADDRESS": bus_address}
    log = (directory / "gnome-keyring.log").open("wb")
    keyring = subprocess.Popen(
        # --unlock reads the login keyring's password from stdin; without it the first write is refused.
        ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
        stdin=subprocess.PIPE,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    log.close()
    processes.append(keyring)
    assert keyring.stdin is not None
    keyring.stdin.write(secrets.token_hex(16).encode())
    keyring.stdin.close()


def _wait_for_owner(session: KeyringSession, timeout: float) -> None:
    from jeepney import DBusAddress, new_method_call  # type: ignore[import-untyped]
    from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]

    bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")
    deadline = time.monotonic() + timeout
    with open_dbus_connection(bus=session.bus_address) as connection:
        while time.monotonic() < deadline:
            if not session.alive():
                log = (session.directory / "gnome-keyring.log").read_text(errors="replace").strip()
                raise KeyringSessionError(f"gnome-keyring-daemon exited: {log or 'no output'}")
            reply = connection.send_and_get_reply(new_method_call(bus, "NameHasOwner", "s", (SECRET_SERVICE,)))
            if reply.body[0]:
                return
            time.sleep(0.01)
    raise KeyringSessionError(f"{SECRET_SERVICE} got no owner within {timeout:g} s")


def main() -> int:
    """Start a session, print its environment as shell `export` lines, and serve until SIGTERM or SIGINT."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    try:
        session = start_keyring_session()
    except KeyringSessionError as exc:
        print(f"keyring_session: {exc}", file=sys.stderr)
        return 1
    with session:
        for name, value in session.env.items():
            print(f"export {name}={shlex.quote(value)}", flush=True)
        try:
            while session.alive():
                time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
    print("keyring_session: a daemon exited", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
