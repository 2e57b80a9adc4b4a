"""Soak: the real tray and `plexsync run` side by side for a long time; do they stay flat?

Starts Xvfb + trayer (tests/e2e/x11_desktop), the Plex and Stash simulators as processes, the
installed `plexsync-tray` (docked, its status window open so the store reader refreshes on every
event) and `plexsync run`, each with its own config dir and a 1 s poll, and edits Stash scenes
continuously. Every `--every` seconds it prints, per process: open fds (and how many are on the
SQLite files), threads, RSS and the size of the SQLite files (database + WAL). At the end it
prints the growth after warm-up and exits 1 if a process died or its fds grew.

    .venv/bin/python bench/soak.py --minutes 30 [--every 60] [--edits 3] [--scenes 200]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "e2e"), str(REPO)]

from tray_harness import Secrets, Simulators, TrayHarness, app_installed  # noqa: E402
from x11_desktop import Child, Desktop, missing_packages, wait_until  # noqa: E402

DB_NAME = "plexsync.sqlite3"
WARM_UP_MINUTES = 2.0


@dataclass(frozen=True)
class Sample:
    minute: float
    fds: int
    db_fds: int
    threads: int
    rss_mib: float
    sqlite_kib: float


def proc_sample(pid: int, data_dir: Path, minute: float) -> Sample:
    fd_dir = Path(f"/proc/{pid}/fd")
    targets = []
    for entry in fd_dir.iterdir():
        try:
            targets.append(str(entry.readlink()))
        except OSError:
            pass  # closed while we looked
    status = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    sqlite = sum(f.stat().st_size for f in data_dir.glob(f"{DB_NAME}*") if f.is_file())
    return Sample(
        minute=minute,
        fds=len(targets),
        db_fds=sum(DB_NAME in target for target in targets),
        threads=int(status["Threads"]),
        rss_mib=int(status["VmRSS"].split()[0]) / 1024,
        sqlite_kib=sqlite / 1024,
    )


class Soak:
    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        self.args = args
        self.workdir = workdir
        self.samples: dict[str, list[Sample]] = {"tray": [], "cli": []}

    def run(self) -> int:
        creds = Secrets()
        with (
            Desktop(self.workdir / "x11") as desktop,
            Simulators(creds, items=self.args.scenes) as sims,
        ):
            tray = TrayHarness(desktop, sims, creds, self.workdir / "tray")
            tray.launch(poll_interval=1)
            x, y = tray.icon_rect.centre
            desktop.click(x, y)  # opens the status window: its reader follows every event
            cli_harness = TrayHarness(desktop, sims, creds, self.workdir / "cli")
            cli_harness.write_config(poll_interval=1)
            config_dir = str(cli_harness.config_dir)
            run = [sys.executable, "-m", "engine.cli", "--config-dir", config_dir, "run"]
            cli = desktop.spawn("plexsync-run", run, cwd=REPO)
            assert tray.app is not None
            children = {"tray": (tray.app, tray.config_dir), "cli": (cli, cli_harness.config_dir)}
            wait_until(lambda: (cli_harness.config_dir / "data" / DB_NAME).exists(), 30, "the CLI")
            return self._loop(sims, children)

    def _loop(self, sims: Simulators, children: dict[str, tuple[Child, Path]]) -> int:
        started = time.monotonic()
        end = started + self.args.minutes * 60
        next_sample = started
        print(f"{'min':>5} proc {'fds':>4} {'db':>3} {'thr':>4} {'RSS MiB':>8} {'SQLite KiB':>10}")
        while True:
            now = time.monotonic()
            if now >= next_sample:
                minute = (now - started) / 60
                for name, (child, config_dir) in children.items():
                    if not child.running:
                        print(f"{name} died (exit {child.proc.poll()}):\n{child.output()[-3000:]}")
                        return 1
                    sample = proc_sample(child.pid, config_dir / "data", minute)
                    self.samples[name].append(sample)
                    print(
                        f"{minute:5.1f} {name:4} {sample.fds:4d} {sample.db_fds:3d} "
                        f"{sample.threads:4d} {sample.rss_mib:8.1f} {sample.sqlite_kib:10.0f}",
                        flush=True,
                    )
                next_sample += self.args.every
            if now >= end:
                break
            sims.stash.control("POST", "churn", {"count": self.args.edits})
            time.sleep(1.0)
        return self._summary()

    def _summary(self) -> int:
        failed = 0
        print("\nafter warm-up (from the first sample at or after minute 2):")
        for name, samples in self.samples.items():
            warm = [s for s in samples if s.minute >= WARM_UP_MINUTES] or samples
            first, last = warm[0], warm[-1]
            fds = {s.fds for s in warm}
            grew = last.fds > first.fds
            failed |= grew
            print(
                f"  {name}: fds {min(fds)}..{max(fds)} (db {first.db_fds}->{last.db_fds}), "
                f"threads {first.threads}->{last.threads}, "
                f"RSS {first.rss_mib:.1f}->{last.rss_mib:.1f} MiB "
                f"({last.rss_mib - first.rss_mib:+.1f}), "
                f"SQLite max {max(s.sqlite_kib for s in samples):.0f} KiB"
            )
        return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between samples")
    parser.add_argument("--edits", type=int, default=3, help="Stash scenes edited per second")
    parser.add_argument("--scenes", type=int, default=200)
    args = parser.parse_args()
    missing = missing_packages()
    if missing or not app_installed():
        print(f"needs: apt-get install {' '.join(missing)}; and `make venv`", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="plexsync-soak-") as tmp:
        return Soak(args, Path(tmp)).run()


if __name__ == "__main__":
    sys.exit(main())
