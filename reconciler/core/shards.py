"""contract §7.1: which shard of N an organization belongs to.

An org's shard depends only on its rate-limit group (its provider and the token reference it uses, as written:
`${env:NAME}`, never the value) and N. So adding or removing an org never moves another, orgs that share an
API key (and so its rate limit) are always in one shard, and every process of a CI matrix or an Indexed Job
computes the same split from the same manifests, whatever else it was given."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from reconciler.core.model import Organization, OrgOutline


@dataclass(frozen=True)
class Shard:
    index: int  # K: 0 <= K < N, so `--shard $JOB_COMPLETION_INDEX/N` works
    count: int  # N

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def keeps(self, org: Organization) -> bool:
        return shard_of(org, self.count) == self.index


def parse(text: str) -> Shard:
    """`K/N` with 0 <= K < N; ValueError (a message naming the rule) otherwise."""
    index, slash, count = text.partition("/")
    if not slash or not index.isdigit() or not count.isdigit():
        raise ValueError(f"expected K/N (two whole numbers, 0 <= K < N, e.g. 0/4), got '{text}'")
    shard = Shard(int(index), int(count))
    if shard.count < 1 or shard.index >= shard.count:
        raise ValueError(f"expected 0 <= K < N in K/N, got '{text}'")
    return shard


def rate_group(org: Organization | OrgOutline) -> str:
    """The org's rate-limit group: its provider and the token reference it uses, as written."""
    return f"{org.provider}\n{org.token_ref}"


def shard_of(org: Organization | OrgOutline, count: int) -> int:
    """sha256 of the group, never Python's hash(): that one differs from process to process."""
    digest = hashlib.sha256(rate_group(org).encode()).digest()
    return int.from_bytes(digest[:8], "big") % count


def select(orgs: Iterable[Organization], shard: Shard | None) -> list[Organization]:
    """The orgs of `shard`, in their order; all of them without one."""
    return list(orgs) if shard is None else [o for o in orgs if shard.keeps(o)]
