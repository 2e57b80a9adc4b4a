"""Every `plexsync` argument is checked at the boundary: a clear error, and nothing changed."""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.paths import AppPaths
from engine.store.jobs import JobStore


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """main() installs masked handlers on the root logger; leave it as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A config dir whose DLQ holds two entries, one failed 10 days ago and one now."""
    directory = tmp_path / "cfg"
    paths = AppPaths.in_dir(directory).ensure()
    store = JobStore(paths.database)
    try:
        for scene in ("1", "2"):
            store.enqueue(scene, {"title": scene})
            (job,) = store.dequeue()
            store.dead_letter(job, error_class="permanent", message="x", attempts=1)
        store._db().execute("UPDATE dlq SET last_failure_at = last_failure_at - 864000 WHERE id=1")
    finally:
        store.close()
    return directory


def dlq_count(config_dir: Path) -> int:
    with sqlite3.connect(AppPaths.in_dir(config_dir).database) as db:
        count: int = db.execute("SELECT COUNT(*) FROM dlq").fetchone()[0]
    return count


def run_cli(config_dir: Path, *args: str) -> int:
    try:
        return main(["--config-dir", str(config_dir), *args])
    except SystemExit as exc:  # argparse's usage errors
        return int(exc.code or 0)


@pytest.mark.parametrize("days", ["-1", "nan", "inf", "-inf", "0", "1e400", "abc", "", "1e6"])
def test_purge_rejects_days_that_would_match_everything(
    config_dir: Path, days: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(config_dir, "dlq", "purge", "--older-than", days) == 2
    assert "--older-than" in capsys.readouterr().err
    assert dlq_count(config_dir) == 2


def test_purge_with_a_sane_age_deletes_only_older_entries(config_dir: Path) -> None:
    assert run_cli(config_dir, "dlq", "purge", "--older-than", "5") == 0
    assert dlq_count(config_dir) == 1


@pytest.mark.parametrize("entry", ["99999999999999999999", "-1", "0", "1.5", "0x10", "１"])
@pytest.mark.parametrize("action", ["show", "retry", "delete"])
def test_entry_ids_are_checked_before_use(
    config_dir: Path, action: str, entry: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_cli(config_dir, "dlq", action, entry) == 2
    err = capsys.readouterr().err
    assert "entry id" in err and "Traceback" not in err
    assert dlq_count(config_dir) == 2


@pytest.mark.parametrize(
    ("option", "value"),
    [("--limit", "0"), ("--limit", "-5"), ("--offset", "-1"), ("--limit", "10**9")],
)
def test_list_paging_is_checked(config_dir: Path, option: str, value: str) -> None:
    assert run_cli(config_dir, "dlq", "list", option, value) == 2


def test_config_dir_pointing_at_a_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    for command in (["status"], ["dlq", "list"], ["config", "check"], ["run", "--once"]):
        assert run_cli(a_file, *command) == 2
        assert "is a file" in capsys.readouterr().err
    assert a_file.read_text() == "x"


def test_a_damaged_database_is_named_and_left_alone(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = AppPaths.in_dir(config_dir).database
    for side in ("-wal", "-shm"):
        database.with_name(database.name + side).unlink(missing_ok=True)
    database.write_bytes(b"this is not a database at all" * 100)
    for command in (["status"], ["dlq", "list"], ["dlq", "show", "1"]):
        assert run_cli(config_dir, *command) == 1
        err = capsys.readouterr().err
        assert "damaged" in err and "--reset-database" in err and "Traceback" not in err
    assert database.read_bytes() == b"this is not a database at all" * 100


# Root ignores file modes; without the capability that lets it (CAP_DAC_OVERRIDE) it obeys them
# like any user, so CI, which runs as root, still meets a real read-only folder.
_AS_PLAIN_USER = [
    "setpriv",
    "--bounding-set=-dac_override,-dac_read_search",
    "--inh-caps=-dac_override,-dac_read_search",
]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_a_read_only_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    paths = AppPaths.in_dir(tmp_path / "cfg").ensure()
    paths.data_dir.chmod(stat.S_IRUSR | stat.S_IXUSR)
    prefix = _AS_PLAIN_USER if os.geteuid() == 0 else []
    code = "import sys; from engine.cli.main import main; sys.exit(main(sys.argv[1:]))"
    argv = [sys.executable, "-c", code, "--config-dir", str(tmp_path / "cfg"), "dlq", "list"]
    try:
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, done.stderr
        assert "cannot be written" in done.stderr and "Traceback" not in done.stderr
    finally:
        paths.data_dir.chmod(0o700)


def test_deeply_nested_config_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = AppPaths.in_dir(tmp_path / "cfg").ensure()
    paths.config_file.write_text("[" * 200_000)
    assert run_cli(tmp_path / "cfg", "config", "check") == 1
    assert run_cli(tmp_path / "cfg", "run", "--once") == 2
    err = capsys.readouterr().err
    assert "nested too deeply" in err and "Traceback" not in err


def test_a_data_dir_that_is_a_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "data").write_text("not a dir")
    assert run_cli(tmp_path / "cfg", "dlq", "list") == 1
    err = capsys.readouterr().err
    assert "data" in err and "Traceback" not in err


def test_a_read_only_database_is_a_clear_error_even_for_root(
    config_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_connect = sqlite3.connect

    def read_only(path: object, **kwargs: object) -> sqlite3.Connection:
        return real_connect(f"file:{path}?mode=ro", uri=True, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("engine.store.history.sqlite3.connect", read_only)
    assert run_cli(config_dir, "dlq", "list") == 0  # reading works
    assert run_cli(config_dir, "dlq", "delete", "1") == 1
    err = capsys.readouterr().err
    assert "cannot be written" in err and "Traceback" not in err
