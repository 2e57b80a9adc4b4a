"""BulkProgress and ServerClients on their own."""

from __future__ import annotations

from pathlib import Path

from fake_clock import FakeClock
from sync_parts import make_parts

from engine.config.file import PlexSyncConfig
from engine.events import Progress
from engine.sync.clients import ServerClients


def test_a_bulk_counts_to_its_end_then_goes(tmp_path: Path, fake_clock: FakeClock) -> None:
    parts = make_parts(tmp_path, fake_clock)
    progress = parts.progress
    progress.started(3)
    fake_clock.advance(2)
    progress.finished_one()
    assert progress.current == Progress(1, 3, 0.5)
    progress.started(2)  # more queued while it runs: the same bulk grows
    assert progress.current is not None and progress.current.total == 5
    for _ in range(4):
        progress.finished_one()
    assert progress.current is None and parts.heard.progress[-1] is None


def test_one_scene_is_not_a_bulk(tmp_path: Path, fake_clock: FakeClock) -> None:
    parts = make_parts(tmp_path, fake_clock)
    parts.progress.started(1)
    parts.progress.finished_one()
    assert parts.heard.progress == []  # nothing to show, nothing said


def test_a_finished_bulk_is_followed_by_a_fresh_one(tmp_path: Path, fake_clock: FakeClock) -> None:
    parts = make_parts(tmp_path, fake_clock)
    parts.progress.started(2)
    parts.progress.finished_one()
    parts.progress.finished_one()
    parts.progress.started(4)
    assert parts.progress.current == Progress(0, 4, 0.0)


def test_clients_are_made_once_for_the_settings_in_force_and_closed_together() -> None:
    made: list[str] = []
    closed: list[str] = []

    class Client:
        def __init__(self, name: str) -> None:
            self.name = name

        def close(self) -> None:
            closed.append(self.name)
            raise OSError("already gone")  # a failing close never escapes

    config = PlexSyncConfig(plex_url="http://one:32400")

    def plex(c: PlexSyncConfig) -> Client:
        made.append(f"plex {c.plex_url}")
        return Client("plex")

    def stash(c: PlexSyncConfig) -> Client:
        made.append("stash")
        return Client("stash")

    clients = ServerClients(lambda: config, plex, stash)  # type: ignore[arg-type]
    assert clients.plex() is clients.plex()
    clients.stash()
    clients.close()
    assert sorted(closed) == ["plex", "stash"]
    config = PlexSyncConfig(plex_url="http://two:32400")
    clients.plex()
    assert made == ["plex http://one:32400", "stash", "plex http://two:32400"]
