"""reconciler.runtime.files.write_atomic, the one way the tool writes a file (issue 15): a name planted in advance
is never written through, an existing file keeps its mode, and a failure leaves nothing behind."""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.runtime.files import write_atomic


@pytest.fixture
def umask_027() -> Iterator[None]:
    previous = os.umask(0o027)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_new_file_gets_the_usual_mode_and_no_temporary_file_is_left(tmp_path: Path, umask_027: None) -> None:
    target = tmp_path / "plan.json"
    write_atomic(target, b"{}")
    assert target.read_bytes() == b"{}" and mode(target) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_an_existing_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "plan.json"
    target.write_text("old")
    target.chmod(0o600)
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new" and mode(target) == 0o600


def test_an_explicit_mode_wins(tmp_path: Path) -> None:
    target = tmp_path / "secret.json"
    target.write_text("old")
    target.chmod(0o644)
    write_atomic(target, b"s", mode=0o600)
    assert mode(target) == 0o600


def test_a_symlink_planted_at_the_target_is_replaced_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    victim.chmod(0o755)
    target = tmp_path / "plan.json"
    target.symlink_to(victim)
    write_atomic(target, b"plan")
    assert victim.read_text() == "keep me" and mode(victim) == 0o755
    assert not target.is_symlink() and target.read_bytes() == b"plan"


def test_temporary_names_cannot_be_planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever name the temporary file would get, a symlink planted there is never written through: the
    name is created exclusively, so the write moves on to another name."""
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    names = iter(["planted", "free"])
    monkeypatch.setattr(tempfile, "_get_candidate_names", lambda: names)
    (tmp_path / ".plan.json.planted.tmp").symlink_to(victim)
    write_atomic(tmp_path / "plan.json", b"plan")
    assert victim.read_text() == "keep me"
    assert (tmp_path / "plan.json").read_bytes() == b"plan"
    assert (tmp_path / ".plan.json.planted.tmp").is_symlink()  # left alone, never opened


def test_a_failure_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    with pytest.raises(IsADirectoryError):
        write_atomic(target, b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["taken"]
