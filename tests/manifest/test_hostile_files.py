"""Manifests that attack the reader (issue 15): a FIFO or a device where a manifest should be, a file too
large to hold, and YAML whose aliases or merge keys expand without end. Each must be one clear problem at
its place, found quickly, never a hang, an exhausted memory or a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from reconciler.manifest import load_manifests
from reconciler.manifest.sources import MAX_FILE_BYTES
from tests.manifest.util import ENV, problems, write

HANG_LIMIT = 30.0  # seconds before a child counts as hung: a safety net, never a timing check
VALID = "version: 1\n"


def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    """`reconciler validate` in a process of its own, so that a hang fails the test, not the suite."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", "validate", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=HANG_LIMIT,
        env={**os.environ, **ENV},
    )


class FifoWriter:
    """Waits, in a thread, to open a FIFO for writing: the open returns only once a reader opened it."""

    def __init__(self, fifo: Path) -> None:
        self.fifo = fifo
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._open, daemon=True)
        self.thread.start()

    def _open(self) -> None:
        with open(self.fifo, "wb"):
            self.opened.set()

    def release(self) -> None:
        """Open the read end ourselves, so the writer's open returns and its thread ends."""
        fd = os.open(self.fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.thread.join(timeout=5)
        os.close(fd)


def test_a_fifo_in_the_manifest_directory_is_refused_without_being_opened(tmp_path: Path) -> None:
    write(tmp_path, "a.yaml", VALID)
    fifo = tmp_path / "b.yaml"
    os.mkfifo(fifo)
    writer = FifoWriter(fifo)
    try:
        result = validate(tmp_path)
        opened = writer.opened.is_set()
    finally:
        writer.release()
    assert result.returncode == 1, result.stderr
    assert f"{fifo}:1:1: not a regular file (a FIFO); only regular files are read as manifests" in result.stderr
    assert not opened, "the FIFO was opened for reading"
    assert "Traceback" not in result.stderr


def test_a_fifo_named_on_the_command_line_and_a_symlink_to_one(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link.yaml"
    link.symlink_to(fifo)
    writer = FifoWriter(fifo)
    try:
        named, linked = validate(fifo), validate(link)
        opened = writer.opened.is_set()
    finally:
        writer.release()
    assert named.returncode == linked.returncode == 1
    assert f"{fifo}:1:1: not a regular file (a FIFO)" in named.stderr
    assert f"{link}:1:1: not a regular file (a symlink to a FIFO)" in linked.stderr
    assert not opened


def test_a_symlink_to_dev_zero_is_refused_at_once(tmp_path: Path) -> None:
    """Read whole, /dev/zero would take every byte of memory there is."""
    write(tmp_path, "a.yaml", VALID)
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    started = time.monotonic()
    result = validate(tmp_path)
    assert result.returncode == 1
    assert f"{tmp_path / 'zero.yaml'}:1:1: not a regular file (a symlink to a character device)" in result.stderr
    assert time.monotonic() - started < HANG_LIMIT


def test_a_file_larger_than_the_bound_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(VALID.encode() + b"#" * MAX_FILE_BYTES)
    assert problems([str(big)]) == [
        f"{big}:1:1: larger than 4 MiB, the most a manifest file may hold; split it into several files"
    ]


def test_a_file_at_the_bound_is_read(tmp_path: Path) -> None:
    body = VALID + "organizations: []\n"
    path = tmp_path / "full.yaml"
    path.write_bytes(body.encode() + b"#" * (MAX_FILE_BYTES - len(body) - 1) + b"\n")
    assert path.stat().st_size == MAX_FILE_BYTES
    assert load_manifests([str(path)], ENV).organizations == ()


def merge_key_bomb(levels: int) -> str:
    """Each line merges the mapping above it nine times: 9**levels merges, written in a few hundred bytes."""
    names = "abcdefghijklmnop"
    lines = [VALID.strip(), "a: &a {}"]
    for i in range(1, levels + 1):
        lines.append(f"{names[i]}: &{names[i]} {{<<: [{','.join(['*' + names[i - 1]] * 9)}]}}")
    return "\n".join(lines) + "\n"


def test_a_430_byte_merge_key_bomb_is_refused_quickly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    text = merge_key_bomb(10)
    assert len(text.encode()) == 430
    write(tmp_path, "m.yaml", text)
    started = time.monotonic()
    found = problems(["m.yaml"])
    elapsed = time.monotonic() - started
    assert found == [
        "m.yaml:7:4: aliases and merge keys expand to more than 200000 values (each use counts; the expansion "
        "that ran out starts at this anchor)"
    ]
    # 9**10 merges took seconds per level before; now the budget ends it (about 0.3 s on a busy machine).
    assert elapsed < 3.0, elapsed


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("version: 1\na: &a {x: 1, <<: *a}\n", "m.yaml:2:4"),
        ("version: 1\nb: &b {}\na: &a {<<: [*b, *a]}\n", "m.yaml:3:4"),
    ],
    ids=["mapping merging itself", "merge list naming itself"],
)
def test_a_merge_key_that_includes_itself_is_a_problem_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, where: str
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "m.yaml", text)
    assert problems(["m.yaml"]) == [
        f"{where}: nests deeper than 100 levels (an alias or merge key that includes itself?)"
    ]


def test_aliases_and_merge_keys_share_the_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An alias bomb made of sequences, and one made of merges, end at the same expansion budget."""
    monkeypatch.chdir(tmp_path)
    seq = "version: 1\nx0: &x0 [1]\n" + "".join(
        f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 10)}]\n" for i in range(1, 8)
    )
    write(tmp_path, "m.yaml", seq)
    (message,) = problems(["m.yaml"])
    assert "aliases and merge keys expand to more than 200000 values" in message


def test_an_anchor_reused_in_many_webhooks_is_within_the_budget(tmp_path: Path) -> None:
    """What anchors are for: one event list and one set of options shared by 2,000 webhooks."""
    first = (
        "      - &first {name: h0, url: 'https://h.example/0', active: true,\n"
        "          events: &events [key.create, key.rotate, budget.warning, budget.exceeded]}\n"
    )
    hooks = "".join(f"      - {{<<: *first, name: h{i}, url: 'https://h.example/{i}', events: *events}}\n"
                    for i in range(1, 2000))
    text = "version: 1\norganizations:\n  - name: acme\n    provider: ingate\n    token: ${env:TOKEN}\n"
    path = write(tmp_path, "m.yaml", text + "    webhooks:\n" + first + hooks)
    manifest = load_manifests([path], ENV)
    assert len(manifest.org("acme").webhooks) == 2000
