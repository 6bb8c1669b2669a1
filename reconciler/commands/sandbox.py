"""`reconciler sandbox`: serve the five provider emulators until interrupted."""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from reconciler.commands import output
from reconciler.core.errors import Interrupted, ReconcilerError

if TYPE_CHECKING:
    from reconciler.sandbox import Sandbox

from reconciler.sandbox import DEFAULT_PORT, TOKEN_ENV, URL_ENV


# Type functions raise ArgumentTypeError with the rule: argparse would otherwise name the function
# ("invalid _count value").
def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got '{text}'")
    return value


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit()):
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, got '{text}'")
    return int(text)


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got '{text}'")
    return int(text)


def _variant(text: str) -> tuple[str, str]:
    from reconciler.sandbox.registry import SPECS

    provider, _, variant = text.partition("=")
    if provider not in SPECS or variant not in SPECS[provider].variants:
        choices = " ".join(f"{p}={v}" for p, s in SPECS.items() for v in sorted(s.variants))
        raise argparse.ArgumentTypeError(f"expected one of: {choices}")
    return provider, variant


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "sandbox",
        help="serve local emulators of all five provider APIs",
        description="Serve local emulators of the five provider APIs; prints '<provider> <base_url>' per line.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument(
        "--port", type=_port, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free port)"
    )
    parser.add_argument("--token", default="sandbox-token", help="accepted bearer token (default sandbox-token)")
    parser.add_argument(
        "--keyring",
        action="store_true",
        help="also start a private Secret Service (gnome-keyring on its own D-Bus) for as long as the sandbox "
        "runs, and print the `export` lines that point a shell at it, after the provider lines",
    )
    parser.add_argument(
        "--env-file",
        metavar="FILE",
        help=f"once serving, write the `export` lines ({URL_ENV}, {TOKEN_ENV} and, with --keyring, the keyring's) "
        "to FILE for `. FILE`; removed again when the sandbox stops",
    )
    parser.add_argument(
        "--variant",
        type=_variant,
        action="append",
        default=[],
        metavar="PROVIDER=NAME",
        help="serve a documented variant, e.g. infraaudit=vendor or encrata=sdk (repeatable)",
    )
    faults = parser.add_argument_group("faults (all off by default)")
    faults.add_argument("--latency-ms", type=_count, default=0, help="delay every answer")
    faults.add_argument("--error-rate", type=_rate, default=0.0, help="share of requests answered 503")
    faults.add_argument("--rate-limit-every", type=_count, default=0, help="answer every Nth request 429")
    faults.add_argument(
        "--commit-then-fail-rate", type=_rate, default=0.0, help="share of writes applied and then answered 500"
    )
    faults.add_argument(
        "--drop-rate", type=_rate, default=0.0, help="share of requests applied and then left without an answer"
    )
    faults.add_argument("--seed", type=int, default=0, help="seed of the fault dice")
    faults.add_argument(
        "--no-encrata-rate-limit", action="store_true", help="lift Encrata's documented 30 requests/minute limit"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: other commands should not pay for the HTTP server at start-up.
    from reconciler.sandbox import Faults, Sandbox

    sandbox = Sandbox(host=args.host, port=args.port, token=args.token)
    for provider, variant in args.variant:
        sandbox.set_variant(provider, variant)
    sandbox.set_faults(
        Faults(
            latency_ms=args.latency_ms,
            error_rate=args.error_rate,
            rate_limit_every=args.rate_limit_every,
            commit_then_fail_rate=args.commit_then_fail_rate,
            drop_rate=args.drop_rate,
            seed=args.seed,
            encrata_rate_limit=None if args.no_encrata_rate_limit else Faults().encrata_rate_limit,
        )
    )
    if args.env_file:  # a shell waiting for the file must not find the last run's
        with contextlib.suppress(OSError):
            Path(args.env_file).unlink()
    with _keyring(args.keyring) as keyring_env:
        try:
            sandbox.start()
        except OSError as err:
            raise ReconcilerError(f"sandbox: cannot listen on {args.host}:{args.port}: {err.strerror}") from None
        try:
            exports = {URL_ENV: sandbox.url, TOKEN_ENV: args.token, **keyring_env}
            return _serve(sandbox, exports, keyring=args.keyring, env_file=args.env_file)
        finally:
            sandbox.stop()


@contextlib.contextmanager
def _keyring(wanted: bool) -> Iterator[dict[str, str]]:
    """The private Secret Service's variables while it runs (none without --keyring)."""
    if not wanted:
        yield {}
        return
    from reconciler.devtools.keyring_session import KeyringSessionError, start_keyring_session

    try:
        session = start_keyring_session()
    except KeyringSessionError as exc:
        raise ReconcilerError(f"sandbox --keyring: {exc}") from None
    with session:
        yield dict(session.env)


def _serve(sandbox: Sandbox, exports: dict[str, str], *, keyring: bool, env_file: str | None) -> int:
    """Print the provider lines (contract §4, first and unchanged, so a script reads them as before), then with
    --keyring the `export` lines; write --env-file last, so that a shell waiting for it finds everything up."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    lines = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in exports.items())
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        from reconciler.sandbox.registry import SPECS

        for provider in SPECS:  # the built-in five, then every installed plugin's emulator
            print(f"{provider} {sandbox.base_url(provider)}")
        if keyring:
            print(lines, end="")
        sys.stdout.flush()
        if env_file:
            output.write_file(env_file, lines)
        while not stop.wait(0.1):  # a timed wait: a signal handler runs only between waits
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if env_file:  # its bus is gone: a stale file would point the next shell at nothing
            with contextlib.suppress(OSError):
                Path(env_file).unlink()
    return Interrupted.exit_code  # 130: it serves until interrupted, and contract §4 gives that exit code
