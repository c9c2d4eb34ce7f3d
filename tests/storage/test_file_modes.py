"""The bot's files hold students' names and absences: only the account the bot runs as may read them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from fsm_bot.storage import Database, upgrade_to_head
from fsm_bot.storage.private_files import write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def usual_umask():  # type: ignore[no-untyped-def]
    """The umask most servers have (022: new files 0644), whatever this machine's is."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_new_sqlite_database_and_its_wal_and_shm_files_are_the_owners_only(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    database = Database(f"sqlite:///{path}")
    try:
        upgrade_to_head(database.engine)  # writes: WAL mode creates -wal and -shm beside the file
        with database.engine.connect() as connection:
            connection.exec_driver_sql("CREATE TABLE probe (id INTEGER)")
            files = sorted(tmp_path.iterdir())
            assert [file.name for file in files] == ["bot.db", "bot.db-shm", "bot.db-wal"]
            assert [mode(file) for file in files] == [0o600, 0o600, 0o600]
    finally:
        database.dispose()


def test_an_existing_database_keeps_the_mode_its_owner_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    Database(f"sqlite:///{path}").dispose()  # an engine alone creates nothing
    assert not path.exists()
    path.touch(mode=0o640)  # shared with a backup group on purpose
    path.chmod(0o640)
    database = Database(f"sqlite:///{path}")
    try:
        upgrade_to_head(database.engine)
    finally:
        database.dispose()
    assert mode(path) == 0o640


def test_an_in_memory_database_creates_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    database = Database("sqlite://")
    try:
        upgrade_to_head(database.engine)
    finally:
        database.dispose()
    assert list(tmp_path.iterdir()) == []


def test_an_export_replaces_a_readable_file_and_writes_through_a_symlink(tmp_path: Path) -> None:
    old = tmp_path / "register.csv"
    old.write_text("last month", encoding="utf-8")
    old.chmod(0o644)
    link = tmp_path / "latest.csv"
    link.symlink_to(old)

    write_private(link, b"this month")

    assert link.is_symlink() and old.read_text(encoding="utf-8") == "this month"
    assert mode(old) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == ["latest.csv", "register.csv"]  # no temporary left
