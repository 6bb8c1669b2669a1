"""`reconciler rotate PATH... ORG/WEBHOOK`: a new signing secret, stored before it can be lost."""

from __future__ import annotations

import argparse
from typing import Any

from reconciler import output
from reconciler.applier import OrgApplier, now
from reconciler.commands.common import add_target, load, resolve_target
from reconciler.engine import OrgState, Session
from reconciler.errors import ReconcilerError
from reconciler.model import DesiredWebhook, IndexEntry, LiveWebhook, SecretRecord
from reconciler.secret import Secret


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser("rotate", help="give a webhook a new signing secret and store it")
    add_target(parser)
    parser.add_argument(
        "--recreate",
        action="store_true",
        help="where the API cannot rotate in place: delete and re-create the webhook "
        "(new id; receivers must take the new secret)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    *paths, target = args.paths
    if not paths:
        raise ReconcilerError("usage: reconciler rotate PATH... ORG/WEBHOOK")
    manifest = load(paths)
    session = Session(manifest, read_only=False)
    state, hook, live = resolve_target(manifest, session, target)
    session.preflight(state.org)
    if state.caps.rotate_in_place:
        rotate_in_place(session, state, hook, live)
        output.emit(
            f"{target}: secret rotated in place (id {live.id}); stored in "
            f"{session.store(state.org).location(state.org.name, hook.name)}"
        )
        return 0
    if not args.recreate:
        raise ReconcilerError(
            f"{state.org.provider} cannot rotate a secret in place; `--recreate` deletes and re-creates "
            f"{target} (a new id; receivers must take the new secret)"
        )
    applier = OrgApplier(session, state)
    message = applier.create(hook)
    session.provider(state.org).delete(live.id)
    output.emit(f"{target}: re-created with a new secret, old webhook {live.id} deleted; {message}")
    return 0


def rotate_in_place(session: Session, state: OrgState, hook: DesiredWebhook, live: LiveWebhook) -> None:
    store, org = session.store(state.org), state.org.name
    provider = session.provider(state.org)
    old = store.read(org, hook.name)
    stamp = now()
    created = old.created_at if old is not None else stamp

    def record(secret: Secret) -> SecretRecord:
        return SecretRecord(
            secret, live.id, state.org.provider, live.url, created, rotated_at=stamp, protect=hook.protect
        )

    if state.caps.client_secret == "required":
        # Secret first: the new secret is stored before the provider starts using it.
        new = Secret.generate()
        store.write(org, hook.name, record(new))
        try:
            provider.rotate(live, new)
        except ReconcilerError:
            if old is not None:
                store.write(org, hook.name, old)
            raise
    else:
        new = provider.rotate(live, None)
        OrgApplier(session, state).store_rotated(hook.name, record(new))
    index = dict(state.index)
    index[hook.name] = IndexEntry(live.id, hook.protect)
    store.write_index(org, index)
