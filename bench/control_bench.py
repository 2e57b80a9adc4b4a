"""The control channel under a flood of idle connections (the issue's 1,019), per transport.

A real `plexsync run` engine (unconfigured Plex is not needed: it only serves the channel) is
flooded from this process; the engine's open file handles and threads are read from /proc and
a proven `status` call is timed while the flood holds. Linux only. Usage:

    python bench/control_bench.py               # 1,019 connections
    python bench/control_bench.py --connections 5000
"""

from __future__ import annotations

import argparse
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config.file import PlexSyncConfig, save_config  # noqa: E402
from engine.control.client import ControlError, call_running_engine  # noqa: E402
from engine.control.protocol import Endpoint, read_endpoint  # noqa: E402


def proc_counts(pid: int) -> tuple[int, int]:
    fds = sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
    threads = sum(1 for _ in Path(f"/proc/{pid}/task").iterdir())
    return fds, threads


def open_one(endpoint: Endpoint) -> socket.socket | None:
    if endpoint.transport == "unix" and endpoint.path:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            sock.connect(endpoint.path)
        except OSError:
            sock.close()
            return None
        return sock
    try:
        return socket.create_connection(("127.0.0.1", endpoint.port or 0), timeout=0.2)
    except OSError:
        return None


def flood(control_file: Path, pid: int, count: int) -> None:
    endpoint = read_endpoint(control_file)
    assert endpoint is not None
    before = proc_counts(pid)
    socks = [s for s in (open_one(endpoint) for _ in range(count)) if s is not None]
    time.sleep(0.5)
    during = proc_counts(pid)
    started = time.perf_counter()
    try:
        call_running_engine(control_file, "status", timeout=10.0)
        answered = f"{(time.perf_counter() - started) * 1000:.0f} ms"
    except ControlError as exc:
        answered = f"refused ({exc}: {getattr(exc, 'detail', '')})"
    for sock in socks:
        sock.close()
    print(f"transport {endpoint.transport}: {len(socks)} of {count} connections opened")
    print(f"  engine fds/threads before {before[0]}/{before[1]}, during {during[0]}/{during[1]}")
    print(f"  a proven status call during the flood: {answered}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=1019)
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, args.connections + 256), hard))
    with tempfile.TemporaryDirectory() as tmp:
        config_dir = Path(tmp)
        save_config(
            PlexSyncConfig(plex_url="http://127.0.0.1:9", plex_token="bench-token-0123456789"),
            config_dir / "config.json",
        )
        control_file = config_dir / "data" / "control.json"
        engine = subprocess.Popen(
            [sys.executable, "-m", "engine.cli", "--config-dir", str(config_dir), "run"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=ROOT,
        )
        try:
            deadline = time.monotonic() + 20
            while read_endpoint(control_file) is None and time.monotonic() < deadline:
                time.sleep(0.1)
            flood(control_file, engine.pid, args.connections)
        finally:
            engine.terminate()
            engine.wait(10)


if __name__ == "__main__":
    main()
