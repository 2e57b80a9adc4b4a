"""Live updates against the simulators: a Stash job or a Plex scan is acted on without a poll.

The engine runs on a fake clock with a one-hour poll interval, so without live updates nothing
after the first sync would happen within the few fake seconds each test drives it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import requests
from fake_clock import FakeClock
from live_helpers import Woken, drive_until, wait_for
from sync_helpers import TOKEN, config_for, drive, engine_for, plex_item_for, settle, simulators

from engine.breaker import CircuitState
from engine.live.plex import PlexNotifications
from engine.live.stash import StashJobs
from engine.live.stream import Backoff
from engine.runtime.live import LiveUpdates
from plexsync_sim.plex.agent import AGENT_SUMMARY

pytestmark = pytest.mark.integration
FAST = Backoff(base=0.05, cap=0.2)


def _finds(stash_requests: list[dict[str, object]]) -> int:
    return sum(1 for r in stash_requests if "findScenes" in str(r.get("query")))


def test_identify_job_reaches_plex_without_waiting_for_the_poll(tmp_path: Path) -> None:
    clock = FakeClock()
    with simulators() as (plex, stash):
        config = config_for(plex, stash, poll_interval=3600)
        with engine_for(tmp_path, config, clock) as (engine, _store):
            settle(engine, clock)
            live = LiveUpdates(engine, streams=[StashJobs()], backoff=FAST).start()
            try:
                assert wait_for(lambda: len(stash.subscriptions.hub) == 1)
                woken = Woken()
                engine.add_wake_callback(woken)
                finds_before = _finds(stash.requests())
                stash.jobs.run("identify", [5], {"title": "Identified Title"}).join()
                assert wait_for(lambda: woken.count > 0)
                drive(engine, clock, 2.0)  # two fake seconds of a one-hour poll interval
            finally:
                live.stop()
            scene = stash.scene(5)
            assert scene is not None
            item = plex_item_for(plex, scene)
            assert item is not None and item["title"] == "Identified Title"
            assert _finds(stash.requests()) > finds_before  # the job's end made the poll
            assert not any(w.alive for w in live.workers)


def test_file_added_later_syncs_after_the_scan_without_not_found_backoff(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    with simulators() as (plex, stash):
        stash.update_scene(6, files=["/data/later/new scene.mp4"], title="Later Scene")
        config = config_for(plex, stash, poll_interval=3600)
        with engine_for(tmp_path, config, clock) as (engine, store):
            drive(engine, clock, 1.0)  # the first poll; scene 6 is not in Plex yet
            job = store.get_job("6")
            assert job is not None and job.not_before > clock.now()  # waiting: not found
            plex.add_pending("/media/later/new scene.mp4")
            live = LiveUpdates(engine, streams=[PlexNotifications()], backoff=FAST).start()
            try:
                assert wait_for(lambda: len(plex.notifier.hub) == 1)
                woken = Woken()
                engine.add_wake_callback(woken)
                answer = requests.get(
                    f"{plex.url}/library/sections/1/refresh",
                    params={"path": "/media/later", "X-Plex-Token": TOKEN},
                    timeout=5,
                )
                assert answer.status_code == 200
                assert wait_for(lambda: woken.count > 0)
                # Far below the not-found backoff (30 s and up); news of state 5 and the
                # scan's end, which the write waits for, arrives meanwhile in real time.
                drive_until(engine, clock, lambda: store.get_job("6") is None, fake_seconds=1.0)
            finally:
                live.stop()
            assert store.get_job("6") is None
            titles = {i["title"] for i in plex.items() if "/media/later/" in i["files"][0]}
            assert titles == {"Later Scene"}


def test_a_plex_change_with_nothing_waiting_costs_no_plex_request(tmp_path: Path) -> None:
    clock = FakeClock()
    with simulators() as (plex, stash):
        config = config_for(plex, stash, poll_interval=3600)
        with engine_for(tmp_path, config, clock) as (engine, _store):
            settle(engine, clock)
            plex.reset_stats()
            live = LiveUpdates(engine, streams=[PlexNotifications()], backoff=FAST).start()
            try:
                assert wait_for(lambda: len(plex.notifier.hub) == 1)
                woken = Woken()
                engine.add_wake_callback(woken)
                plex.add_movie("/media/other/unrelated.mp4")
                assert wait_for(lambda: woken.count > 0)
                engine.tick()
            finally:
                live.stop()
            routes = plex.stats()["by_route"]
            assert routes == {"GET /:/websockets/notifications": 1}  # only the stream itself


def test_streams_refused_leave_polling_and_the_breaker_alone(tmp_path: Path) -> None:
    clock = FakeClock()
    with simulators() as (plex, stash):
        # A proxy that does not pass websockets: the upgrade requests get a 404.
        plex.add_fault(match=r"GET /:/websockets/.*", status=404)
        stash.add_fault(match=r"GET /graphql", status=404)
        config = config_for(plex, stash)
        with engine_for(tmp_path, config, clock) as (engine, _store):
            live = LiveUpdates(engine, backoff=FAST).start()
            try:
                assert wait_for(lambda: all(w.failures >= 1 for w in live.workers))
                settle(engine, clock)
            finally:
                live.stop()
            status = engine.status()
            assert status.breaker_state is CircuitState.CLOSED
            assert engine.breaker.failure_count == 0
            assert status.last_error is None
            assert status.pending == 0 and status.dlq == 0
            scene = stash.scene(1)
            assert scene is not None and plex_item_for(plex, scene) is not None


def test_stash_stream_reconnects_after_the_simulator_restarts(tmp_path: Path) -> None:
    clock = FakeClock()
    with simulators() as (plex, stash):
        config = config_for(plex, stash, poll_interval=3600)
        with engine_for(tmp_path, config, clock) as (engine, _store):
            settle(engine, clock)
            live = LiveUpdates(engine, streams=[StashJobs()], backoff=FAST).start()
            try:
                worker = live.workers[0]
                assert wait_for(lambda: worker.connections == 1)
                stash.stop()
                stash.start()  # same port, same scenes
                assert wait_for(lambda: worker.connections == 2)
                assert wait_for(lambda: len(stash.subscriptions.hub) == 1)
                woken = Woken()
                engine.add_wake_callback(woken)
                stash.jobs.run("auto_tag", [3], {"title": "After Restart"}).join()
                assert wait_for(lambda: woken.count > 0)
                drive(engine, clock, 2.0)
            finally:
                live.stop()
            scene = stash.scene(3)
            assert scene is not None
            item = plex_item_for(plex, scene)
            assert item is not None and item["title"] == "After Restart"


def test_a_new_item_is_written_after_plex_processed_it_and_stays_written(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    with simulators() as (plex, stash):
        agent = plex.use_agent(paused=True)  # Plex's agent processes the new item later
        stash.update_scene(6, files=["/data/later/new scene.mp4"], title="Later Scene")
        config = config_for(plex, stash, poll_interval=3600)
        with engine_for(tmp_path, config, clock) as (engine, store):
            drive(engine, clock, 1.0)  # the first poll; scene 6 is not in Plex yet
            plex.add_pending("/media/later/new scene.mp4")
            live = LiveUpdates(engine, streams=[PlexNotifications()], backoff=FAST).start()
            try:
                assert wait_for(lambda: len(plex.notifier.hub) == 1)
                woken = Woken()
                engine.add_wake_callback(woken)
                requests.get(
                    f"{plex.url}/library/sections/1/refresh",
                    params={"path": "/media/later", "X-Plex-Token": TOKEN},
                    timeout=5,
                )
                assert wait_for(lambda: woken.count > 0)  # state 0: the item exists
                drive(engine, clock, 1.0)  # the agent has not processed it yet
                agent.resume()
                assert wait_for(lambda: len(agent.processed) == 1)
                # Far inside the time-out: state 5 and the scan's end let the write go.
                assert drive_until(
                    engine, clock, lambda: store.get_job("6") is None, fake_seconds=5
                )
            finally:
                live.stop()
            agent.join()
            items = [i for i in plex.items() if "/media/later/" in i["files"][0]]
            assert [i["title"] for i in items] == ["Later Scene"]  # not the agent's match
            assert items[0]["summary"] != AGENT_SUMMARY
