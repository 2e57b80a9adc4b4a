"""The simulators' websockets speak the real protocols; the stream client closes what it opens."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import requests
from live_helpers import wait_for
from sync_helpers import API_KEY, TOKEN, config_for, simulators
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from engine.live.plex import PlexNotifications
from engine.live.stream import Backoff, StreamWorker

pytestmark = pytest.mark.integration
QUERY = "subscription { jobsSubscribe { type job { id status description } } }"


def test_plex_notifications_need_the_token_and_report_a_scan() -> None:
    with simulators() as (plex, _stash):
        with pytest.raises(InvalidStatus):
            connect(f"ws://127.0.0.1:{plex.port}/:/websockets/notifications?X-Plex-Token=bad")
        url = f"ws://127.0.0.1:{plex.port}/:/websockets/notifications?X-Plex-Token={TOKEN}"
        with connect(url) as ws:
            assert wait_for(lambda: len(plex.notifier.hub) == 1)
            plex.add_pending("/media/new/a.mp4")
            requests.get(
                f"{plex.url}/library/sections/1/refresh",
                params={"X-Plex-Token": TOKEN},
                timeout=5,
            )
            kinds = []
            for _ in range(4):
                container = json.loads(ws.recv(timeout=5))["NotificationContainer"]
                listed = container.get("TimelineEntry") or container["ActivityNotification"]
                kinds.append((container["type"], listed[0].get("state", listed[0].get("event"))))
        assert kinds == [
            ("activity", "started"),
            ("timeline", 0),
            ("timeline", 5),
            ("activity", "ended"),
        ]


def test_plex_agent_processes_a_scanned_item_before_the_scan_ends() -> None:
    with simulators() as (plex, _stash):
        agent = plex.use_agent(paused=True)
        url = f"ws://127.0.0.1:{plex.port}/:/websockets/notifications?X-Plex-Token={TOKEN}"
        with connect(url) as ws:
            assert wait_for(lambda: len(plex.notifier.hub) == 1)
            plex.add_pending("/media/new/a.mp4")
            requests.get(
                f"{plex.url}/library/sections/1/refresh",
                params={"X-Plex-Token": TOKEN},
                timeout=5,
            )
            kinds = []
            for n in range(7):
                if n == 2:
                    agent.resume()
                container = json.loads(ws.recv(timeout=5))["NotificationContainer"]
                listed = container.get("TimelineEntry") or container["ActivityNotification"]
                kinds.append(listed[0].get("state", listed[0].get("event")))
        assert kinds == ["started", 0, 2, 3, 4, 5, "ended"]
        agent.join()
        (item,) = [i for i in plex.items() if i["files"] == ["/media/new/a.mp4"]]
        assert item["title"].endswith("(agent match)")


@pytest.mark.parametrize("subprotocol", ["graphql-transport-ws", "graphql-ws", None])
def test_stash_jobs_subscription_in_both_protocols(subprotocol: str | None) -> None:
    with simulators() as (_plex, stash):
        with pytest.raises(InvalidStatus):
            connect(f"ws://127.0.0.1:{stash.port}/graphql", additional_headers={"ApiKey": "no"})
        offered = [subprotocol] if subprotocol else None
        with connect(
            f"ws://127.0.0.1:{stash.port}/graphql",
            additional_headers={"ApiKey": API_KEY},
            subprotocols=offered,  # type: ignore[arg-type]
        ) as ws:
            legacy = subprotocol != "graphql-transport-ws"
            assert ws.subprotocol == subprotocol
            ws.send(json.dumps({"type": "connection_init", "payload": {}}))
            assert json.loads(ws.recv(timeout=5))["type"] == "connection_ack"
            if legacy:
                assert json.loads(ws.recv(timeout=5))["type"] == "ka"
            start = "start" if legacy else "subscribe"
            ws.send(json.dumps({"id": "1", "type": start, "payload": {"query": QUERY}}))
            assert wait_for(lambda: len(stash.subscriptions.hub) == 1)
            stash.jobs.run("scan", [2], {"title": "Scanned"}).join()
            updates = []
            while len(updates) < 4:
                message = json.loads(ws.recv(timeout=5))
                assert message["type"] == ("data" if legacy else "next")
                update = message["payload"]["data"]["jobsSubscribe"]
                updates.append((update["type"], update["job"]["status"]))
        assert updates == [
            ("ADD", "READY"),
            ("UPDATE", "RUNNING"),
            ("UPDATE", "RUNNING"),
            ("REMOVE", "FINISHED"),
        ]


def test_stash_rejects_an_invalid_subscription() -> None:
    with simulators() as (_plex, stash):
        with connect(
            f"ws://127.0.0.1:{stash.port}/graphql",
            additional_headers={"ApiKey": API_KEY},
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        ) as ws:
            ws.send(json.dumps({"type": "connection_init"}))
            ws.recv(timeout=5)
            bad = {"query": "subscription { jobsSubscribe { nope } }"}
            ws.send(json.dumps({"id": "9", "type": "subscribe", "payload": bad}))
            message = json.loads(ws.recv(timeout=5))
        assert message["type"] == "error" and message["id"] == "9"


def _open_fds() -> int:
    return len(list(Path("/proc/self/fd").iterdir()))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_many_reconnects_leak_no_descriptors_and_stop_within_a_second() -> None:
    with simulators() as (plex, stash):
        config = config_for(plex, stash)
        worker = StreamWorker(
            PlexNotifications(),
            config=lambda: config,
            deliver=lambda signal: None,
            rng=random.Random(1),
            backoff=Backoff(base=0.001, cap=0.005),
        )
        before = _open_fds()
        # Refused handshakes, dropped connections and server restarts, many times over.
        plex.add_fault(match=r"GET /:/websockets/.*", status=503, count=30)
        plex.add_fault(match=r"GET /:/websockets/.*", drop=True, count=30)
        worker.start()
        try:
            assert wait_for(lambda: worker.connections >= 1, timeout=30)
            for round_ in range(5):
                plex.stop()
                plex.start()
                assert wait_for(lambda n=round_: worker.connections >= n + 2, timeout=30)
        finally:
            worker.stop(1.0)
        assert not worker.alive
        assert worker.connections >= 6
        assert wait_for(lambda: _open_fds() <= before + 2)


@pytest.mark.parametrize("status", [502, 503])
def test_a_stream_refused_while_plex_restarts_connects_within_seconds(status: int) -> None:
    # A proxy's 502 while Plex restarts, or Plex's 503 while it starts, for three upgrades.
    with simulators() as (plex, stash):
        config = config_for(plex, stash)
        plex.add_fault(match=r"GET /:/websockets/.*", status=status, count=3)
        worker = StreamWorker(
            PlexNotifications(),
            config=lambda: config,
            deliver=lambda signal: None,
            rng=random.Random(1),
            backoff=Backoff(base=0.05, cap=600.0),  # a refusal sent to the cap waits 10 min
        )
        worker.start()
        try:
            assert wait_for(lambda: worker.connections == 1, timeout=10)
        finally:
            worker.stop(1.0)
        # Connected within seconds; the streak ends only once a connection has lasted
        # STABLE_AFTER (a server that accepts and closes at once must not reset the backoff).
        assert worker.failures == 3
        assert not worker.alive
