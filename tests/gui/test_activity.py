"""Recent activity: the status window's tab pages through SQLite, double-click opens the item,
and the tray's submenu is rebuilt from a snapshot."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from pytestqt.qtbot import QtBot
from status_fakes import Clock, FakeBridge, build_window, make_status

from engine.config.file import PlexSyncConfig
from engine.events import JobOutcome
from engine.store.activity import ActivityKind
from engine.store.jobs import JobStore
from gui.mnemonics import plain
from gui.open_places import Opener
from gui.status_window import StatusWindow
from gui.tray_extras import MENU_ENTRIES, RecentActivityMenu
from gui.web_links import plex_item_url, stash_scene_url
from gui.widgets.activity_table import PAGE_SIZE

pytestmark = [
    pytest.mark.gui,
    pytest.mark.qt_log_ignore(r"This plugin does not support (raise|propagateSizeHints)"),
]

TEN_AM = datetime(2026, 9, 21, 10, 0, 0).astimezone().timestamp()
TOKEN = "activity-token-55aa"
SERVER = "abc123machine"


@pytest.fixture
def clock() -> Clock:
    return Clock(TEN_AM)


@pytest.fixture
def bridge(store: JobStore) -> FakeBridge:
    return FakeBridge(store, make_status())


def seed(store: JobStore, clock: Clock, rows: int) -> None:
    store.add_activity_rows(
        (clock.t - rows + n, ActivityKind.SYNCED, str(n), f"Old {n}", "title") for n in range(rows)
    )
    store.record_activity(ActivityKind.FAILED, scene_id="77", title="Broken", summary="boom")
    store.record_activity(
        ActivityKind.SYNCED,
        scene_id="12",
        title="Newest",
        summary="title, studio, +2 tags, -1 performer, poster",
        rating_key="5012",
        server_id=SERVER,
    )


def show_activity(qtbot: QtBot, window: StatusWindow) -> None:
    window.show_activity()
    qtbot.waitUntil(lambda: window.activity.model.rowCount() > 0, timeout=5000)


def test_tab_shows_a_page_of_100000_rows_and_fetches_more_on_demand(
    qtbot: QtBot, bridge: FakeBridge, store: JobStore, database: Path, clock: Clock
) -> None:
    seed(store, clock, 100_000)
    window = build_window(qtbot, bridge, database, clock)
    show_activity(qtbot, window)
    model = window.activity.model
    assert model.rowCount() == PAGE_SIZE  # one page, not 100,002 rows
    first = model.entry(0)
    assert (first.title, first.summary) == (
        "Newest",
        "title, studio, +2 tags, -1 performer, poster",
    )
    assert model.canFetchMore()
    model.fetchMore()
    qtbot.waitUntil(lambda: model.rowCount() == 2 * PAGE_SIZE, timeout=5000)
    ids = [model.entry(row).id for row in range(model.rowCount())]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)


def test_new_activity_appears_after_a_job_finishes(
    qtbot: QtBot, bridge: FakeBridge, store: JobStore, database: Path, clock: Clock
) -> None:
    window = build_window(qtbot, bridge, database, clock)
    window.show_activity()
    store.record_activity(ActivityKind.CHECK, title="Library check", summary="3 scenes checked")
    bridge.job_finished.emit(JobOutcome("1", "x", ok=True))
    qtbot.waitUntil(lambda: window.activity.model.rowCount() == 1, timeout=5000)
    assert window.activity.model.entry(0).kind is ActivityKind.CHECK


def test_double_click_opens_plex_for_a_synced_scene_and_stash_for_a_failed_one(
    qtbot: QtBot, bridge: FakeBridge, store: JobStore, database: Path, clock: Clock
) -> None:
    seed(store, clock, 3)
    window = build_window(qtbot, bridge, database, clock)
    show_activity(qtbot, window)
    panel = window.activity
    with qtbot.waitSignal(panel.open_requested) as synced:
        panel.view.doubleClicked.emit(panel.model.index(0, 1))
    assert synced.args[1] == "plex" and synced.args[0].rating_key == "5012"
    with qtbot.waitSignal(panel.open_requested) as failed:
        panel.view.doubleClicked.emit(panel.model.index(1, 1))
    assert failed.args[1] == "stash" and failed.args[0].scene_id == "77"


def test_links_go_to_plex_web_and_stash_without_any_secret() -> None:
    opened: list[QUrl] = []
    config = PlexSyncConfig(
        plex_url="http://user:pw@plex.local:32400/", plex_token=TOKEN, stash_url="http://st:9999"
    )
    opener = Opener(lambda: config, opened.append)
    from engine.store.activity import Activity

    entry = Activity(1, TEN_AM, ActivityKind.SYNCED, "12", "T", "", "5012", SERVER)
    opener.activity(entry, "plex")
    opener.activity(entry, "stash")
    assert [u.toString() for u in opened] == [
        "http://plex.local:32400/web/index.html#!/server/abc123machine/details"
        "?key=%2Flibrary%2Fmetadata%2F5012",
        "http://st:9999/scenes/12",
    ]
    assert all(TOKEN not in u.toString() and "pw" not in u.toString() for u in opened)
    assert plex_item_url("", SERVER, "1") == "" and stash_scene_url("http://st:9999", "") == (
        "http://st:9999"
    )


def test_tray_submenu_is_rebuilt_from_the_snapshot_and_opens_entries(
    qtbot: QtBot, bridge: FakeBridge, store: JobStore, database: Path, clock: Clock
) -> None:
    seed(store, clock, 20)
    opened: list[object] = []
    shown: list[str] = []
    recent = RecentActivityMenu(
        "Recent activity", database, bridge, opened.append, lambda: shown.append("all")
    )
    try:
        qtbot.waitUntil(lambda: len(recent.snapshot) == MENU_ENTRIES, timeout=5000)
        recent.menu.aboutToShow.emit()
        texts = [plain(a.text()) for a in recent.menu.actions() if not a.isSeparator()]
        assert texts[0] == "Newest: title, studio, +2 tags, -1 performer, poster"
        assert texts[1] == "Failed: Broken"
        assert texts[-1] == "Show all…" and len(texts) == MENU_ENTRIES + 1
        recent.menu.actions()[0].trigger()
        recent.menu.actions()[-1].trigger()
        assert [getattr(e, "rating_key", None) for e in opened] == ["5012"] and shown == ["all"]
        store.record_activity(ActivityKind.SYNCED, scene_id="99", title="Later", summary="poster")
        bridge.job_finished.emit(JobOutcome("99", "Later", ok=True))
        qtbot.waitUntil(lambda: recent.snapshot[0].title == "Later", timeout=5000)
    finally:
        recent.close()
