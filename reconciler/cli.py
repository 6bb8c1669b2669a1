"""Argument parsing and the one place where errors become exit codes."""

from __future__ import annotations

import argparse
import contextlib
import gc
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Sequence
from typing import NoReturn

from reconciler import __version__
from reconciler.commands import output
from reconciler.core.errors import ManifestError, ReconcilerError
from reconciler.core.exits import Exit
from reconciler.core.redact import ScrubFilter, scrub
from reconciler.render import metrics
from reconciler.runtime import interrupt

COMMANDS = (
    "validate", "plan", "apply", "drift", "import_", "rotate", "test", "sandbox", "unlock", "shards", "merge_reports",
    "render",
)


def global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    # On sub-commands the defaults are suppressed, so a flag given before the sub-command survives.
    default = argparse.SUPPRESS if suppress else False
    parser.add_argument(
        "--debug", action="store_true", default=default, help="debug logging (redacted HTTP traces) and tracebacks"
    )
    parser.add_argument("--quiet", "-q", action="store_true", default=default, help="print only results")
    parser.add_argument("--no-color", action="store_true", default=default, help="never colour output")


class Parser(argparse.ArgumentParser):
    """argparse exits 2 on a usage error, but 2 means "changes present" / "drift" here (contract §4): a typo
    in a scheduled drift check must read as an error (1), not as drift."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(Exit.ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    import importlib

    parser = Parser(
        prog="reconciler", description="Terraform-style plan/apply for SaaS webhook subscriptions."
    )
    parser.add_argument("--version", action="version", version=f"reconciler {__version__}")
    global_options(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        module = importlib.import_module(f"reconciler.commands.{name}")
        module.add_parser(sub)
    for action in sub.choices.values():
        global_options(action, suppress=True)
    return parser


def setup_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ScrubFilter())
    handler.addFilter(output.TerminalFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("reconciler")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.WARNING)
    root.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.debug)
    output.configure(quiet=args.quiet)
    metrics.begin()
    code = run(args)
    if getattr(args, "metrics_file", None):  # contract §7.1: written also when the run failed
        try:
            metrics.write(args.metrics_file, code)
        except ReconcilerError as exc:
            output.error(f"error: {exc}")
            return code or Exit.ERROR
    return code


def run(args: argparse.Namespace) -> int:
    """The command, its errors turned into exit codes."""
    interrupt.reset()
    previous = interrupt_on_signals()
    try:
        code: int = args.func(args)
        return code
    except ManifestError as exc:
        for warning in exc.warnings:
            output.error(warning.as_warning())
        for problem in exc.problems:
            output.error(str(problem))
        output.error(f"error: {len(exc.problems)} problem(s) in the manifests; nothing was sent to any API")
        return exc.exit_code
    except ReconcilerError as exc:
        if args.debug:
            output.error(scrub(traceback.format_exc()))
        output.error(f"error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        output.error("interrupted")
        return Exit.INTERRUPTED
    except Exception as exc:  # the promise is: never a traceback unless --debug
        if args.debug:
            output.error(scrub(traceback.format_exc()))
        output.error(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")
        return Exit.ERROR
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if "reconciler.providers" in sys.modules:  # one run, one set of connections and rate limiters
            sys.modules["reconciler.providers"].close_all()


def entry() -> NoReturn:
    """The `reconciler` command and `python -m reconciler`: `main` in a process of its own.

    A run is one short process whose data (the manifests, every org's live state) lives until it ends. So,
    as mypy does: the cycle collector runs rarely (it otherwise rescans that data over and over; the few
    cycles made are freed when the process ends), and the heap is not torn down object by object at exit
    (tens of milliseconds for a large manifest): output is flushed, then the process ends."""
    gc.set_threshold(_GC_THRESHOLD, *gc.get_threshold()[1:])
    try:
        code = main()
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        code = exc.code if isinstance(exc.code, int) else Exit.OK if exc.code is None else Exit.ERROR
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a reader that went away (`| head`), a closed stream
            stream.flush()
    logging.shutdown()
    os._exit(code)


_GC_THRESHOLD = 100_000  # allocations between young collections; Python's default is 700


def interrupt_on_signals() -> dict[int, signal._HANDLER]:
    """Ctrl-C, and SIGTERM (how a pipeline cancels a job), stop the run cleanly (exit 130): the worker
    threads learn of it at once (reconciler.runtime.interrupt), the main thread by a KeyboardInterrupt. Returns the
    handlers to restore; none when not on the main thread, where no handler can be set."""
    if threading.current_thread() is not threading.main_thread():
        return {}

    def stop(signum: int, frame: object) -> None:
        interrupt.interrupt()
        raise KeyboardInterrupt

    return {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}
