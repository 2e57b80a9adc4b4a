"""Fixtures: in-process Plex and Stash simulators on free ports, stopped after each test.

``plex_sim`` / ``stash_sim`` give a started simulator with the defaults (token ``tok``, API key
``key``, 50 items, seed 1); ``make_plex_sim(**kw)`` / ``make_stash_sim(**kw)`` build more with
other arguments. ``plex_server`` is a real ``plexapi.server.PlexServer`` connected to
``plex_sim`` through a ``requests.Session`` that is closed afterwards.
"""

from __future__ import annotations

import os

# plexapi reads its config file at import time; a developer's config.ini must not change tests.
os.environ["PLEXAPI_CONFIG_PATH"] = "/nonexistent"

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from plexsync_sim.plex.server import PlexSimulator
from plexsync_sim.stash.server import StashSimulator

PLEX_TOKEN = "tok"
STASH_KEY = "key"
TIMEOUT = (5, 30)


@pytest.fixture
def make_plex_sim() -> Iterator[Callable[..., PlexSimulator]]:
    started: list[PlexSimulator] = []

    def factory(**kwargs: Any) -> PlexSimulator:
        kwargs.setdefault("token", PLEX_TOKEN)
        sim = PlexSimulator(**kwargs).start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture
def make_stash_sim() -> Iterator[Callable[..., StashSimulator]]:
    started: list[StashSimulator] = []

    def factory(**kwargs: Any) -> StashSimulator:
        kwargs.setdefault("api_key", STASH_KEY)
        sim = StashSimulator(**kwargs).start()
        started.append(sim)
        return sim

    yield factory
    for sim in started:
        sim.stop()


@pytest.fixture
def plex_sim(make_plex_sim: Callable[..., PlexSimulator]) -> PlexSimulator:
    return make_plex_sim()


@pytest.fixture
def stash_sim(make_stash_sim: Callable[..., StashSimulator]) -> StashSimulator:
    return make_stash_sim()


@pytest.fixture
def http() -> Iterator[requests.Session]:
    """A plain ``requests.Session``, closed after the test (unclosed sockets would warn)."""
    with requests.Session() as session:
        yield session


@pytest.fixture
def make_plex_server(http: requests.Session) -> Callable[..., Any]:
    """Connect a real ``PlexServer`` to a simulator (``timeout`` and ``token`` overridable)."""
    from plexapi.server import PlexServer

    def connect(sim: PlexSimulator, token: str = PLEX_TOKEN, timeout: Any = TIMEOUT) -> Any:
        return PlexServer(sim.url, token, session=http, timeout=timeout)

    return connect


@pytest.fixture
def plex_server(plex_sim: PlexSimulator, make_plex_server: Callable[..., Any]) -> Any:
    return make_plex_server(plex_sim)
