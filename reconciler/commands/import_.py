"""`reconciler import`: write a manifest for an account's live webhooks, so adopting them replaces nothing."""

from __future__ import annotations

import argparse
import os
from typing import Any

from reconciler.commands import output
from reconciler.core.errors import ReconcilerError
from reconciler.core.exits import Exit
from reconciler.core.secret import Secret
from reconciler.engine import usecases


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("import", help="write a manifest for an account's existing webhooks")
    parser.add_argument("--provider", required=True, help="an installed provider (e.g. ingate, encrata)")
    parser.add_argument("--base-url", metavar="URL", help="the API's base URL (default: the provider's)")
    parser.add_argument("--token-env", required=True, metavar="VAR", help="environment variable holding the API token")
    parser.add_argument("--org", metavar="NAME", help="organization name (default: the provider's name)")
    parser.add_argument("--secret-store", metavar="NAME", help="add a keyring store of this name and use it")
    parser.add_argument("-o", "--out", metavar="FILE", help="write the manifest to FILE instead of stdout")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    token = os.environ.get(args.token_env)
    if not token:
        raise ReconcilerError(f"environment variable {args.token_env} is not set")
    request = usecases.ImportRequest(
        args.provider, args.base_url, Secret(token), args.token_env, args.org, args.secret_store
    )
    text, count, org = usecases.import_org(request)
    if args.out:
        output.write_file(args.out, text)
        output.emit(f"Wrote {args.out}: {count} webhook(s) of {org}.", stream=None)
    else:
        output.emit(text, always=True)
    return Exit.OK
