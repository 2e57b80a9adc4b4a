"""One instance per user and config dir; the first answers later launches and shows itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtNetwork import QLocalSocket
from pytestqt.qtbot import QtBot

from gui.single_instance import SingleInstance, instance_name


@pytest.fixture
def first(qapp: object, tmp_path: Path) -> Iterator[SingleInstance]:
    instance = SingleInstance(tmp_path / "data")
    assert instance.acquire()
    yield instance
    instance.close()


def test_names_differ_per_config_dir(tmp_path: Path) -> None:
    a, b = instance_name(tmp_path / "a"), instance_name(tmp_path / "b")
    assert a != b
    assert a.startswith("plexsync-tray-")
    assert instance_name(tmp_path / "a") == a


def test_a_second_instance_cannot_acquire(first: SingleInstance, tmp_path: Path) -> None:
    second = SingleInstance(tmp_path / "data")
    assert not second.acquire()
    assert second.name == first.name


def test_the_lock_is_free_again_after_close(qapp: object, tmp_path: Path) -> None:
    one = SingleInstance(tmp_path / "data")
    assert one.acquire()
    one.close()
    two = SingleInstance(tmp_path / "data")
    assert two.acquire()
    two.close()


def test_the_first_instance_answers_a_show_request(qtbot: QtBot, first: SingleInstance) -> None:
    client = QLocalSocket()
    with qtbot.waitSignal(first.activation_requested, timeout=3000) as shown:
        client.connectToServer(first.name)
        assert client.waitForConnected(1000)
        client.write(json.dumps({"command": "show", "argv": ["--autostart"]}).encode())
        client.write(b"\n")
        client.flush()
    assert shown.args == [["--autostart"]]
    qtbot.waitUntil(lambda: client.bytesAvailable() > 0, timeout=2000)
    assert bytes(client.readAll().data()).strip() == b"ok"


def test_garbage_is_ignored(qtbot: QtBot, first: SingleInstance) -> None:
    client = QLocalSocket()
    with qtbot.assertNotEmitted(first.activation_requested, wait=200):
        client.connectToServer(first.name)
        assert client.waitForConnected(1000)
        client.write(b"{not json\n")
        client.flush()
