"""The engine against a real Stash (and the Plex simulator): first sync, edits, renames, merges,
deletes, a file taken over, a wrong key, Stash stopped and started (issue 21)."""

from __future__ import annotations

import os
import random
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fake_clock import FakeClock
from stash_admin import RealStash

from engine.config.file import PlexSyncConfig
from engine.events import ServiceHealth
from engine.live.stash import StashJobs
from engine.live.stream import Backoff
from engine.plex.client import PlexClient
from engine.poll.scenes import SETTLE_SECONDS
from engine.runtime.live import LiveUpdates
from engine.stash.client import StashClient
from engine.store.jobs import JobStore
from engine.sync.engine import SyncEngine
from plexsync_sim.plex.server import PlexSimulator

TOKEN = "plex-token-0123456789"
EDIT_ROUTE = "PUT /library/sections/{id}/all"
POLL = 5.0
OURS = 6  # scanned scenes the tests shape


@dataclass
class World:
    stash: RealStash
    plex: PlexSimulator
    engine: SyncEngine
    store: JobStore
    clock: FakeClock
    scenes: list[dict[str, Any]]  # the scenes we shape: id, file, rating key
    ids: dict[str, str]  # our objects: "tag A" -> Stash id
    root: str  # the library's folder in Stash (Plex's is /media)

    def drive(self, seconds: float) -> None:
        end = self.clock.now() + seconds
        for _ in range(20_000):
            if self.clock.now() >= end:
                return
            delay = self.engine.tick(budget=5.0)
            self.clock.advance(min(max(delay, 0.05), end - self.clock.now() + 0.001))
        raise AssertionError("the engine did not settle")

    def settle(self) -> None:
        for _ in range(20_000):
            delay = self.engine.tick(budget=5.0)
            status = self.engine.status()
            if status.pending == 0 and status.in_progress == 0 and delay > 0:
                return
            self.clock.advance(max(delay, 0.05))
        raise AssertionError("the engine did not settle")

    def item(self, scene: dict[str, Any]) -> dict[str, Any]:
        found = self.plex.item(scene["rating_key"])
        assert found is not None
        return found

    def edits(self) -> int:
        return int(self.plex.stats()["by_route"].get(EDIT_ROUTE, 0))


def config_for(plex: PlexSimulator, stash: RealStash, root: str, **changes: Any) -> PlexSyncConfig:
    settings: dict[str, Any] = {
        "plex_url": plex.url,
        "plex_token": TOKEN,
        "stash_url": stash.url,
        "stash_api_key": stash.api_key,
        "poll_interval": POLL,
        "plex_connect_timeout": 2,
        "plex_read_timeout": 10,
        "path_mappings": [{"stash_prefix": root, "plex_prefix": "/media"}],
        "live_updates": False,
    }
    settings.update(changes)
    return PlexSyncConfig(**settings)


@contextmanager
def engine_on(
    tmp_path: Path, config: PlexSyncConfig, clock: FakeClock
) -> Iterator[tuple[SyncEngine, JobStore]]:
    store = JobStore(tmp_path / "plexsync.sqlite3", clock=clock)
    engine = SyncEngine(
        config=config,
        store=store,
        plex_factory=PlexClient,
        stash_factory=StashClient,
        clock=clock,
        rng=random.Random(0),
    )
    try:
        yield engine, store
    finally:
        engine.close()
        store.close()


@pytest.fixture
def world(real_stash: RealStash, tmp_path: Path, fake_clock: FakeClock) -> Iterator[World]:
    real_stash.run = uuid.uuid4().hex[:6]  # names of this test's own objects
    scanned = real_stash.scanned_scenes()
    assert len(scanned) >= OURS, "the real Stash needs a scanned library of a few videos"
    root = os.path.commonpath([s["files"][0]["path"] for s in scanned])
    ids = {
        label: real_stash.create(kind, label)
        for kind, label in (
            ("tag", "tag A"),
            ("tag", "tag B"),
            ("tag", "tag C"),
            ("tag", "tag D"),
            ("performer", "performer P"),
            ("studio", "studio S"),
        )
    }
    with PlexSimulator(token=TOKEN, movies=0) as plex:
        keys = {
            s["id"]: plex.add_movie("/media" + s["files"][0]["path"][len(root) :]) for s in scanned
        }
        ours = []
        for n, scene in enumerate(scanned[:OURS]):
            tags = [ids["tag A"], ids["tag B"]] + ([ids["tag C"]] if n % 2 else [ids["tag D"]])
            real_stash.update_scene(
                scene["id"],
                title=real_stash.name(f"scene {n}"),
                details=f"Scene {n}, shaped by the real-Stash tier",
                tag_ids=tags,
                performer_ids=[ids["performer P"]],
                studio_id=ids["studio S"],
            )
            ours.append(
                {
                    "id": scene["id"],
                    "file": scene["files"][0]["path"],
                    "rating_key": keys[scene["id"]],
                    "n": n,
                }
            )
        config = config_for(plex, real_stash, root)
        with engine_on(tmp_path, config, fake_clock) as (engine, store):
            yield World(real_stash, plex, engine, store, fake_clock, ours, ids, root)


def genres(world: World, scene: dict[str, Any]) -> list[str]:
    return sorted(world.item(scene)["genres"])


def name(world: World, label: str) -> str:
    return world.stash.name(label)


def test_first_sync_writes_every_shaped_scene_as_stash_has_it(world: World) -> None:
    world.settle()
    for scene in world.scenes:
        item = world.item(scene)
        assert item["title"] == name(world, f"scene {scene['n']}")
        assert item["studio"] == name(world, "studio S")
        assert item["actors"] == [name(world, "performer P")]
        other = "tag C" if scene["n"] % 2 else "tag D"
        assert genres(world, scene) == sorted(name(world, t) for t in ("tag A", "tag B", other))
    status = world.engine.status()
    assert status.stash_health is ServiceHealth.OK
    assert status.dlq == 0


def test_an_edit_a_rename_a_merge_and_a_delete_reach_plex_one_write_per_changed_item(
    world: World,
) -> None:
    world.settle()
    first = world.scenes[0]
    world.stash.update_scene(first["id"], title=name(world, "scene 0 edited"))
    world.drive(POLL + 1)
    world.settle()
    assert world.item(first)["title"] == name(world, "scene 0 edited")

    before = world.edits()
    world.stash.rename("tag", world.ids["tag B"], "tag B renamed")
    world.drive(POLL + 1)
    world.settle()
    for scene in world.scenes:
        assert name(world, "tag B renamed") in genres(world, scene)
        assert name(world, "tag B") not in genres(world, scene)
    assert world.edits() - before == OURS  # every scene carries B: one PUT each

    before = world.edits()
    world.stash.merge_tags([world.ids["tag C"]], world.ids["tag A"])
    world.drive(POLL + 1)
    world.settle()
    carriers_of_c = [s for s in world.scenes if s["n"] % 2]
    for scene in carriers_of_c:
        assert name(world, "tag C") not in genres(world, scene)
    assert world.edits() - before == len(carriers_of_c)

    before = world.edits()
    world.stash.destroy("tag", world.ids["tag D"])
    world.drive(POLL + 1)
    world.settle()
    carriers_of_d = [s for s in world.scenes if not s["n"] % 2]
    for scene in carriers_of_d:
        assert name(world, "tag D") not in genres(world, scene)
    assert world.edits() - before == len(carriers_of_d)

    # After a merge and a delete, renames still reach Plex, and Stash never showed as down.
    world.stash.rename("tag", world.ids["tag A"], "tag A renamed")
    world.drive(POLL + 1)
    world.settle()
    for scene in world.scenes:
        assert name(world, "tag A renamed") in genres(world, scene)
    assert world.engine.status().stash_health is ServiceHealth.OK
    assert world.store.outages(0, service="stash") == []
    assert world.engine.status().dlq == 0


def test_a_studio_rename_reaches_the_studio_and_its_collection(world: World) -> None:
    world.settle()
    world.stash.rename("studio", world.ids["studio S"], "studio S renamed")
    world.drive(POLL + 1)
    world.settle()
    for scene in world.scenes:
        item = world.item(scene)
        assert item["studio"] == name(world, "studio S renamed")
        assert name(world, "studio S renamed") in item["collections"]
        assert name(world, "studio S") not in item["collections"]


def test_a_scene_that_takes_over_a_deleted_scenes_file_syncs_to_its_item(world: World) -> None:
    world.settle()
    last = world.scenes[-1]
    world.stash.gql(
        "mutation ($i: SceneDestroyInput!) { sceneDestroy(input: $i) }",
        {"i": {"id": last["id"], "delete_file": False}},
    )
    world.stash.scan()  # the file, now without a scene, gets a new one
    world.stash.wait_for_jobs()
    taker = next(
        s
        for s in world.stash.scanned_scenes()
        if any(f["path"] == last["file"] for f in s["files"])
    )
    assert taker["id"] != last["id"]
    # A title alone is what a scan sets: identification adds more (StashScene.has_metadata).
    world.stash.update_scene(
        taker["id"], title=name(world, "the new scene"), details="Took over the file"
    )
    # The edit may share the second of the scan that made the scene: the settle pass reads it.
    world.drive(POLL + SETTLE_SECONDS + 1)
    world.settle()
    assert world.item(last)["title"] == name(world, "the new scene")
    status = world.engine.status()
    assert status.dlq == 0
    assert status.stash_health is ServiceHealth.OK


def test_a_scan_job_seen_over_jobs_subscribe_syncs_without_waiting_for_the_poll(
    world: World, tmp_path: Path
) -> None:
    """Stash pushes job events only: an edit made before a scan reaches Plex when the scan's
    REMOVE arrives over `jobsSubscribe`, long before a one-hour poll would find it."""
    world.settle()
    config = config_for(world.plex, world.stash, world.root, poll_interval=3600, live_updates=True)
    (tmp_path / "live").mkdir()
    with engine_on(tmp_path / "live", config, world.clock) as (engine, store):
        lived = World(
            world.stash, world.plex, engine, store, world.clock, world.scenes, world.ids, world.root
        )
        lived.settle()
        woken = threading.Event()
        engine.add_wake_callback(woken.set)
        live = LiveUpdates(engine, streams=[StashJobs()], backoff=Backoff(base=0.05, cap=0.2))
        live.start()
        try:
            first = world.scenes[0]
            world.stash.update_scene(first["id"], title=name(world, "edited before a scan"))
            for _ in range(50):  # the subscription is up once a scan's events wake the engine
                world.stash.scan()
                world.stash.wait_for_jobs()
                if woken.wait(timeout=2.0):
                    break
            assert woken.is_set(), "no job event arrived over jobsSubscribe"
            lived.drive(2.0)  # two fake seconds of a one-hour poll interval
        finally:
            live.stop()
        assert world.item(first)["title"] == name(world, "edited before a scan")
        assert engine.status().stash_health is ServiceHealth.OK


def test_a_wrong_api_key_is_a_rejected_sign_in(
    real_stash: RealStash, tmp_path: Path, fake_clock: FakeClock
) -> None:
    with PlexSimulator(token=TOKEN, movies=1) as plex:
        config = config_for(plex, real_stash, "/nowhere", stash_api_key="not-the-key")
        with engine_on(tmp_path, config, fake_clock) as (engine, _store):
            engine.tick()
            status = engine.status()
            assert status.stash_health is ServiceHealth.AUTH_FAILED
            assert "not-the-key" not in str(status)


class Doorway:
    """A TCP forwarder to the real Stash: closed, it is a Stash that has stopped."""

    def __init__(self, target: str) -> None:
        host, port = target.split("://", 1)[1].split("/")[0].rsplit(":", 1)
        self._target = (host, int(port))
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        self._stop = threading.Event()
        self._live: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self._server.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            if not self._open.is_set():
                client.close()  # refused, as a stopped Stash's port
                continue
            upstream = socket.create_connection(self._target, timeout=10)
            self._live += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def stop_stash(self) -> None:
        """New connections are refused and open ones are cut, as when Stash's process ends."""
        self._open.clear()
        for connection in self._live:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._live.clear()

    def start_stash(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._server.close()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def test_stash_stopped_and_started_is_an_outage_that_ends(
    real_stash: RealStash, tmp_path: Path, fake_clock: FakeClock
) -> None:
    door = Doorway(real_stash.url)
    try:
        with PlexSimulator(token=TOKEN, movies=1) as plex:
            config = config_for(plex, real_stash, "/nowhere")
            config = config.model_copy(update={"stash_url": f"http://127.0.0.1:{door.port}"})
            with engine_on(tmp_path, config, fake_clock) as (engine, store):
                engine.tick()
                assert engine.status().stash_health is ServiceHealth.OK
                door.stop_stash()
                for _ in range(3):
                    fake_clock.advance(POLL + 1)
                    engine.tick()
                assert engine.status().stash_health is ServiceHealth.UNREACHABLE
                door.start_stash()
                for _ in range(3):
                    fake_clock.advance(POLL + 1)
                    engine.tick()
                assert engine.status().stash_health is ServiceHealth.OK
                outages = store.outages(0, service="stash")
                assert len(outages) == 1 and outages[0].ended_at is not None
    finally:
        door.close()


def test_issue_24_fields_a_group_and_a_parent_studio_reach_plex(world: World) -> None:
    world.settle()
    world.engine.apply_config(world.engine.config.with_changes(parent_studio_collection="parent"))
    group = world.stash.create("group", "group G")
    parent = world.stash.create("studio", "parent studio")
    world.stash.gql(
        "mutation ($i: StudioUpdateInput!) { studioUpdate(input: $i) { id } }",
        {"i": {"id": world.ids["studio S"], "parent_id": parent}},
    )
    first = world.scenes[0]
    world.stash.update_scene(
        first["id"],
        code="RS-1",
        director="Real Director",
        rating100=70,
        groups=[{"group_id": group, "scene_index": 1}],
    )
    world.drive(POLL + 1)
    world.settle()
    item = world.item(first)
    assert item["tagline"] == "RS-1" and item["directors"] == ["Real Director"]
    assert item["userRating"] == "7.0"
    assert name(world, "group G") in item["collections"]
    assert name(world, "parent studio") in item["collections"]

    world.stash.rename("group", group, "group G renamed")
    world.drive(POLL + 1)
    world.settle()
    item = world.item(first)
    assert name(world, "group G renamed") in item["collections"]
    assert name(world, "group G") not in item["collections"]

    world.stash.destroy("group", group)
    for _ in range(3):  # the sweep notices the vanished group, then the scene is read again
        world.drive(POLL + 1)
        world.settle()
    assert name(world, "group G renamed") not in world.item(first)["collections"]
    assert world.engine.status().stash_health is ServiceHealth.OK
