"""A network change reported by Qt reaches the engine as `network_changed` (calm after wake)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtNetwork import QNetworkInformation
from pytestqt.qtbot import QtBot
from tray_fakes import FakeEngine

from gui.bridge import EngineBridge
from gui.network_watch import NetworkWatch

Reachability = QNetworkInformation.Reachability


@pytest.fixture
def bridge(qtbot: QtBot) -> Iterator[EngineBridge]:
    bridge = EngineBridge()
    yield bridge
    assert bridge.stop(), "the engine thread must stop within 2 s"


def test_a_network_change_reaches_the_engine(qtbot: QtBot, bridge: EngineBridge) -> None:
    engine = FakeEngine(bridge.listener, next_delay=30.0)  # type: ignore[arg-type]
    bridge.attach(engine)
    bridge.start()
    watch = NetworkWatch(bridge.network_changed)
    watch._last = Reachability.Disconnected
    watch.on_info_reachability_changed(Reachability.Online)
    watch.on_info_reachability_changed(Reachability.Online)  # the same state again: no news
    watch.on_info_transport_medium_changed(QNetworkInformation.TransportMedium.WiFi)
    qtbot.waitUntil(lambda: len(engine.calls) >= 2, timeout=10_000)
    assert engine.calls == [("network_changed", ()), ("network_changed", ())]


def test_without_a_backend_the_watch_stays_quiet(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(QNetworkInformation, "loadDefaultBackend", staticmethod(lambda: False))
    watch = NetworkWatch(lambda: calls.append("changed"))
    assert watch.info is None and calls == []
