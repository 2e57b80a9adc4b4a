"""`plexsync config init | set | test` as a user runs them, against the simulators and against
servers that are not Plex or Stash: tested before saving, validated, secrets never on argv."""

from __future__ import annotations

import json
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sync_helpers import API_KEY, TOKEN
from test_cli import plexsync as plexsync_plain
from test_cli import write_config

from plexsync_sim.process import SimProcess

pytestmark = pytest.mark.integration


def plexsync(config_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "engine.cli", "--config-dir", str(config_dir), *args]
    return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=90)


@pytest.fixture
def sims() -> Iterator[tuple[SimProcess, SimProcess]]:
    plex = SimProcess("plex", "--token", TOKEN, "--movies", "5", "--seed", "3")
    stash = SimProcess("stash", "--api-key", API_KEY, "--scenes", "5", "--seed", "3")
    with plex, stash:
        yield plex, stash


class _LoginPage(BaseHTTPRequestHandler):
    """A proxy's login page: 200 and HTML for whatever is asked."""

    def _answer(self) -> None:
        body = b"<html><body>Please sign in</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def login_page() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _LoginPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def init(
    tmp_path: Path, plex_url: str, stash_url: str, *more: str
) -> subprocess.CompletedProcess[str]:
    args = ("config", "init", "--plex-url", plex_url, "--plex-token", "-")
    args += ("--stash-url", stash_url, "--stash-api-key", "-", *more)
    return plexsync(tmp_path, *args, stdin=f"{TOKEN}\n{API_KEY}\n")


def test_config_init_tests_both_and_writes_a_private_file(
    tmp_path: Path, sims: tuple[SimProcess, SimProcess]
) -> None:
    plex, stash = sims
    done = init(tmp_path, plex.url, stash.url)
    assert done.returncode == 0, done.stderr
    assert f"Plex  {plex.url}: OK" in done.stdout and f"Stash {stash.url}: OK" in done.stdout
    assert TOKEN not in done.stdout + done.stderr and API_KEY not in done.stdout + done.stderr
    path = tmp_path / "config.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    saved = json.loads(path.read_text())
    assert saved["plex_url"] == plex.url and saved["plex_token"] == TOKEN
    assert saved["stash_api_key"] == API_KEY
    again = init(tmp_path, "http://127.0.0.1:1", stash.url)
    assert again.returncode == 2 and "--force" in again.stderr
    assert json.loads(path.read_text()) == saved  # not overwritten
    tested = plexsync(tmp_path, "config", "test")
    assert tested.returncode == 0 and "movie libraries" in tested.stdout


def test_config_init_refuses_a_token_on_the_command_line(tmp_path: Path) -> None:
    args = ("config", "init", "--plex-url", "http://127.0.0.1:32400", "--plex-token", TOKEN)
    done = plexsync(tmp_path, *args, "--no-test")
    assert done.returncode == 2 and "`ps`" in done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert not (tmp_path / "config.json").exists()


def test_config_init_saves_nothing_when_a_test_fails(
    tmp_path: Path, sims: tuple[SimProcess, SimProcess]
) -> None:
    _plex, stash = sims
    dead = f"http://127.0.0.1:{closed_port()}"
    done = init(tmp_path, dead, stash.url)
    assert done.returncode == 1
    assert f"Plex  {dead}: FAILED" in done.stdout and "refused the connection" in done.stdout
    assert "--no-test" in done.stderr and not (tmp_path / "config.json").exists()
    forced = init(tmp_path, dead, stash.url, "--no-test")
    assert forced.returncode == 0, forced.stderr
    assert json.loads((tmp_path / "config.json").read_text())["plex_url"] == dead


def test_config_test_names_the_url_and_the_cause(tmp_path: Path, login_page: str) -> None:
    port = closed_port()
    settings = {
        "plex_url": f"http://alice:s3cret-pass@127.0.0.1:{port}",
        "plex_token": TOKEN,
        "stash_url": login_page,
    }
    (tmp_path / "config.json").write_text(json.dumps(settings))
    (tmp_path / "config.json").chmod(0o600)
    refused = plexsync(tmp_path, "config", "test")
    assert refused.returncode == 1
    assert "s3cret-pass" not in refused.stdout + refused.stderr
    assert f"127.0.0.1:{port} refused the connection" in refused.stdout
    assert "Stash's address answered with something that is not Stash" in refused.stdout
    assert "a web page" in refused.stdout
    settings["plex_url"] = login_page
    (tmp_path / "config.json").write_text(json.dumps(settings))
    not_plex = plexsync(tmp_path, "config", "test")
    assert "Plex's address answered with something that is not Plex" in not_plex.stdout
    assert TOKEN not in not_plex.stdout + not_plex.stderr


def test_config_set_validates_and_names_what_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"plex_url": "http://127.0.0.1:32400", "plex_token": TOKEN}))
    path.chmod(0o600)
    before = path.read_text()
    for args, words in (
        (("poll_interval", "0"), "poll_interval must be a number from 1 to 3600 (seconds)"),
        (("library_check", "monthly"), "library_check must be one of never, daily, weekly"),
        (("sync_poster", "maybe"), "sync_poster must be true or false"),
        (("poll_intervall", "5"), "unknown setting 'poll_intervall'"),
        (("path_mappings", "/data"), "is not STASH_PREFIX=PLEX_PREFIX"),
        (("stash_url", "localhost:9999"), "stash_url: must start with http:// or https://"),
        (("plex_token", TOKEN), "`ps`"),
    ):
        done = plexsync(tmp_path, "config", "set", *args)
        assert done.returncode == 2, args
        assert words in done.stderr, (args, done.stderr)
        assert TOKEN not in done.stdout + done.stderr
    assert path.read_text() == before  # nothing saved
    for args in (
        ("poll_interval", "60"),
        ("sync_poster", "off"),
        ("path_mappings", "/data=/media", "/mnt/b=D:\\Media"),
    ):
        done = plexsync(tmp_path, "config", "set", *args)
        assert done.returncode == 0, done.stderr
    secret = plexsync(tmp_path, "config", "set", "plex_token", "-", stdin="new-token-1\n")
    assert secret.returncode == 0 and "new-token-1" not in secret.stdout
    saved = json.loads(path.read_text())
    assert saved["poll_interval"] == 60 and saved["sync_poster"] is False
    assert saved["plex_token"] == "new-token-1"
    assert saved["path_mappings"] == [
        {"stash_prefix": "/data", "plex_prefix": "/media"},
        {"stash_prefix": "/mnt/b", "plex_prefix": "D:\\Media"},
    ]
    cleared = plexsync(tmp_path, "config", "set", "path_mappings")
    assert cleared.returncode == 0 and json.loads(path.read_text())["path_mappings"] == []


def test_run_once_ends_with_what_it_did(tmp_path: Path) -> None:
    plex = SimProcess("plex", "--token", TOKEN, "--movies", "12", "--seed", "4")
    stash = SimProcess("stash", "--api-key", API_KEY, "--scenes", "12", "--seed", "4")
    with plex, stash:
        write_config(tmp_path, plex, stash, sync_poster=False)
        plex.control("POST", "fault", {"match": "^PUT ", "status": 400, "count": 1})
        done = plexsync_plain(tmp_path, "run", "--once")
        assert done.returncode == 0, done.stderr
        assert "Done: synced 11, unchanged 0, failed 1 (in the DLQ)." in done.stdout
        assert plexsync_plain(tmp_path, "dlq", "retry", "--all").returncode == 0
        again = plexsync_plain(tmp_path, "run", "--once")
        assert "Done: synced 1, unchanged 0, failed 0." in again.stdout


def test_status_says_not_configured_and_what_to_do(tmp_path: Path) -> None:
    done = plexsync_plain(tmp_path, "status")
    assert done.returncode == 0
    assert "not configured: run `plexsync config init`" in done.stdout
    (tmp_path / "config.json").write_text(json.dumps({"plex_url": "http://127.0.0.1:9"}))
    assert "not configured" in plexsync_plain(tmp_path, "status").stdout
    token = {"plex_url": "http://127.0.0.1:9", "plex_token": {"keyring": "plexsync-tray/a/b"}}
    (tmp_path / "config.json").write_text(json.dumps(token))
    assert "not configured" not in plexsync_plain(tmp_path, "status").stdout


def test_a_readable_config_is_warned_about_once_by_every_command(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"plex_url": "http://127.0.0.1:9", "plex_token": TOKEN}))
    config.chmod(0o644)
    for args in (
        ("status",),
        ("config", "show"),
        ("config", "check"),
        ("config", "test"),
        ("dlq", "list"),
        ("run", "--once", "--reset-database"),
    ):
        done = plexsync(tmp_path, *args)
        assert done.stderr.count("other users can read it") == 1, (args, done.stderr)
    fixed = plexsync(tmp_path, "config", "fix-permissions")
    assert "other users can read it" not in fixed.stderr
    assert "other users" not in plexsync(tmp_path, "status").stderr


def test_commands_that_change_something_log_to_the_log_folder(tmp_path: Path) -> None:
    log = tmp_path / "logs" / "plexsync-commands.log"
    assert plexsync_plain(tmp_path, "status").returncode == 0
    assert not log.exists()  # reading changes nothing and logs nothing
    assert plexsync_plain(tmp_path, "breaker", "reset").returncode == 0
    assert plexsync_plain(tmp_path, "config", "set", "poll_interval", "45").returncode == 0
    text = log.read_text()
    assert "breaker reset" in text and "config set" in text
    quiet = plexsync_plain(tmp_path, "config", "set", "poll_interval", "50")
    assert "INFO" not in quiet.stderr  # the terminal gets the answer, the file the record
    assert stat.S_IMODE(log.stat().st_mode) == 0o600


def test_sim_help_shows_the_defaults(tmp_path: Path) -> None:
    for kind, default in (("plex", "(default: 50)"), ("stash", "(default: /data)")):
        done = plexsync(tmp_path, "sim", kind, "--help")
        assert done.returncode == 0 and default in done.stdout
        assert "(default: 0)" in done.stdout  # --port


def test_status_loads_no_network_or_validation_library(tmp_path: Path) -> None:
    code = (
        "import sys; from engine.cli.main import main;"
        "main(['--config-dir', sys.argv[1], 'status']);"
        "heavy = ('plexapi', 'requests', 'graphql', 'websockets', 'pydantic', 'keyring');"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))"
    )
    (tmp_path / "config.json").write_text(json.dumps({"plex_url": "http://127.0.0.1:9"}))
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
