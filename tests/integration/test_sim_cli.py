"""``python -m plexsync_sim plex|stash`` as processes: ready line, a request, SIGTERM, exit 0."""

from __future__ import annotations

import argparse
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from plexsync_sim.cli import add_sim_parser

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0


def _read_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(READY_TIMEOUT):
            raise AssertionError("the simulator printed nothing in time")
    return proc.stdout.readline()


def _run(args: list[str], path: str, headers: dict[str, str]) -> bytes:
    command = [sys.executable, "-m", "plexsync_sim", *args]
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            line = _read_line(proc)
            assert line.startswith("ready http://127.0.0.1:"), line
            url = line.split(" ", 1)[1].strip()
            with requests.Session() as http:
                answer = http.get(url + path, headers=headers, timeout=(5, 30))
                assert answer.status_code == 200
                body = answer.content
                assert http.get(url + "/__sim__/stats", timeout=(5, 30)).json()["requests"] == 1
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    assert out == ""  # exactly one line, already read
    return body


def test_plex_cli_serves_until_sigterm() -> None:
    args = ["plex", "--port", "0", "--token", "t", "--movies", "20", "--seed", "4"]
    _run(args, "/library/metadata/1020", {"X-Plex-Token": "t"})


def test_plex_cli_windows_path_style_reports_drive_letter_paths() -> None:
    args = ["plex", "--port", "0", "--token", "t", "--movies", "3", "--path-style", "windows"]
    body = _run(args, "/library/sections/1/all", {"X-Plex-Token": "t"})
    assert b'file="D:\\Media\\' in body


def test_stash_cli_serves_until_sigterm() -> None:
    args = ["stash", "--port", "0", "--api-key", "k", "--scenes", "20", "--seed", "4"]
    _run([*args, "--path-prefix", "/srv/stash"], "/scene/20/screenshot", {"ApiKey": "k"})


def test_sim_parser_flags() -> None:
    parser = argparse.ArgumentParser(prog="plexsync")
    add_sim_parser(parser.add_subparsers(dest="command", required=True))
    plex = parser.parse_args(
        ["sim", "plex", "--port", "32400", "--token", "T", "--movies", "9", "--seed", "3"]
    )
    assert (plex.port, plex.token, plex.movies, plex.seed, plex.path_style) == (
        32400, "T", 9, 3, "posix",
    )  # fmt: skip
    assert plex.path_prefix is None  # /media, or D:\Media for --path-style windows
    windows = parser.parse_args(["sim", "plex", "--token", "T", "--path-style", "windows"])
    assert windows.path_style == "windows"
    stash = parser.parse_args(["sim", "stash", "--api-key", "K", "--path-prefix", "/x"])
    assert (stash.api_key, stash.scenes, stash.path_prefix) == ("K", 50, "/x")
    assert callable(plex.func) and callable(stash.func) and plex.func is not stash.func
