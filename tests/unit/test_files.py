"""mapping.files: a file relsync writes is replaced whole or not at all, and is its owner's only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from mapping.files import FileWriteError, create_owner_only, replace_atomically, write_text_atomically


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_failure_while_writing_leaves_the_old_file_and_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError), replace_atomically(target) as stream:
        stream.write("new, half written")
        raise RuntimeError("the store went away")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


@pytest.mark.parametrize("umask", [0o000, 0o022, 0o077, 0o277])
def test_written_files_are_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        write_text_atomically(tmp_path / "secret", "x")
        create_owner_only(tmp_path / "store.db")
    finally:
        os.umask(old)
    assert mode(tmp_path / "secret") == 0o600 and mode(tmp_path / "store.db") == 0o600


def test_a_symlinked_target_replaces_the_file_it_points_at(tmp_path: Path) -> None:
    real, link = tmp_path / "real.txt", tmp_path / "link.txt"
    real.write_text("old")
    link.symlink_to(real)
    write_text_atomically(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_missing_directory_is_one_sentence_naming_the_argument_and_the_fix(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "out.csv"
    with pytest.raises(FileWriteError) as caught:
        write_text_atomically(target, "x", label="--output")
    assert str(caught.value) == (
        f"--output {target}: the directory {target.parent} does not exist. "
        "Fix: create it, or choose a file in an existing directory"
    )


def test_creating_an_existing_store_file_keeps_it(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    store.write_bytes(b"SQLite format 3\x00")
    create_owner_only(store)
    assert store.read_bytes() == b"SQLite format 3\x00"
