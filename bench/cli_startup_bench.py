"""How long ``plexsync status`` takes with no engine running (goal: under 0.2 s), and which
heavy libraries it imports on the way.

Run with ``.venv/bin/python bench/cli_startup_bench.py [--runs 10] [--repo DIR]``. Each run
starts a fresh interpreter (``python -m engine.cli status``) against a saved config in a
temporary directory and times it to exit; the median is reported. ``--repo`` points at another
checkout (for a before/after comparison with the same interpreter). A final run with
``-X importtime`` lists the slowest top-level imports and whether the heavy ones were loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEAVY = ("plexapi", "requests", "graphql", "websockets", "pydantic", "keyring", "sqlite3")
CONFIG = {"plex_url": "http://127.0.0.1:9", "stash_url": "http://127.0.0.1:9"}


def command(config_dir: str, *extra: str) -> list[str]:
    return [sys.executable, *extra, "-m", "engine.cli", "--config-dir", config_dir, "status"]


def environment(repo: Path) -> dict[str, str]:
    env = dict(
        os.environ, PYTHONPATH=str(repo), PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring"
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # cached bytecode, as an installed copy has
    return env


def wall_time(config_dir: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        command(config_dir), env=env, cwd=env["PYTHONPATH"], check=True, capture_output=True
    )
    return time.perf_counter() - started


def import_report(config_dir: str, env: dict[str, str]) -> tuple[list[tuple[int, str]], set[str]]:
    """(cumulative microseconds, module) of the top-level imports, and the heavy ones loaded."""
    done = subprocess.run(
        command(config_dir, "-X", "importtime"),
        env=env,
        cwd=env["PYTHONPATH"],
        check=True,
        capture_output=True,
        text=True,
    )
    rows: list[tuple[int, str]] = []
    loaded: set[str] = set()
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _self, cumulative, name = (part.strip() for part in line[12:].split("|"))
        module = name.strip()
        if module.split(".")[0] in HEAVY:
            loaded.add(module.split(".")[0])
        if not name.startswith(" "):  # imported from the top, not by another module
            rows.append((int(cumulative), module))
    return sorted(rows, reverse=True), loaded


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs (default: 10)")
    parser.add_argument(
        "--repo", type=Path, default=Path(__file__).resolve().parents[1], help="checkout to time"
    )
    args = parser.parse_args()
    env = environment(args.repo.resolve())
    with tempfile.TemporaryDirectory() as config_dir:
        Path(config_dir, "config.json").write_text(json.dumps(CONFIG))
        wall_time(config_dir, env)  # warm the bytecode cache and the page cache
        times = sorted(wall_time(config_dir, env) for _ in range(args.runs))
        rows, loaded = import_report(config_dir, env)
    median = statistics.median(times)
    print(f"plexsync status ({args.repo}): median {median * 1000:.0f} ms over {args.runs} runs")
    print(f"  fastest {times[0] * 1000:.0f} ms, slowest {times[-1] * 1000:.0f} ms")
    print(f"  heavy libraries imported: {', '.join(sorted(loaded)) or 'none'}")
    print("  slowest top-level imports (cumulative):")
    for micros, module in rows[:8]:
        print(f"    {micros / 1000:7.1f} ms  {module}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
