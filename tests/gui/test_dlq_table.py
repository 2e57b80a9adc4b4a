"""The dead-letter queue tab: mirrors the store, sorts, filters, retries, deletes, exports."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot
from status_fakes import Clock, FakeBridge, build_window, make_status, seed_dlq, show_and_wait

from engine.errors import ErrorClass
from engine.store.jobs import DeadLetter, JobStore
from gui.status_window import StatusWindow
from gui.widgets import dlq_panel
from gui.widgets.dlq_panel import DlqPanel
from gui.widgets.dlq_table import COLUMNS, SORT_ROLE, details_text, export_csv, read_csv

pytestmark = pytest.mark.gui

ATTEMPTS = [attr for _, attr in COLUMNS].index("attempts")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bridge(store: JobStore) -> FakeBridge:
    return FakeBridge(store, make_status(dlq=store.dlq_count()))


@pytest.fixture
def window(qtbot: QtBot, bridge: FakeBridge, database: Path, clock: Clock) -> StatusWindow:
    return build_window(qtbot, bridge, database, clock)


def entry(n: int, *, attempts: int = 1, title: str = "", message: str = "boom") -> DeadLetter:
    return DeadLetter(
        id=n,
        scene_id=f"s{n}",
        title=title or f"Title {n}",
        error_class="PermanentError",
        message=message,
        attempts=attempts,
        first_failure_at=1000.0 + n,
        last_failure_at=2000.0 + n,
        payload={"id": f"s{n}", "tags": ["x"]},
    )


def shown(panel: DlqPanel) -> list[DeadLetter]:
    return panel.proxy.entries()


# --- mirrors the store ---------------------------------------------------------------------------


def test_table_mirrors_the_store(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock
) -> None:
    seed_dlq(store, clock, 7)
    show_and_wait(qtbot, window)
    assert shown(window.dlq) == store.dlq_list(100)  # same rows, newest failure first
    assert window.dlq.count_label.text() == "7 failed scenes"
    assert window.tabs.tabText(0) == "&Failed scenes (7)"
    model = window.dlq.model
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(COLUMNS))] == [
        "Scene",
        "Title",
        "Error class",
        "Message",
        "Attempts",
        "First failure",
        "Last failure",
    ]


def test_new_dead_letters_appear_when_the_engine_reports_them(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock, bridge: FakeBridge
) -> None:
    seed_dlq(store, clock, 2)
    show_and_wait(qtbot, window)
    seed_dlq(store, clock, 3, start=10)
    bridge.dead_lettered.emit([])
    qtbot.waitUntil(lambda: window.dlq.model.rowCount() == 5)


def test_a_changed_dlq_count_in_the_status_refreshes_the_table(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock, bridge: FakeBridge
) -> None:
    show_and_wait(qtbot, window)
    assert window.dlq.model.rowCount() == 0
    assert window.dlq.count_label.text() == "No failed scenes."
    seed_dlq(store, clock, 1)
    bridge.emit_store_status()
    qtbot.waitUntil(lambda: window.dlq.model.rowCount() == 1)


# --- retry and delete go through the engine ------------------------------------------------------


def test_confirm_match_is_offered_only_for_one_possible_match_and_goes_to_the_engine(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock, bridge: FakeBridge
) -> None:
    ordinary = seed_dlq(store, clock, 1)[0]
    store.enqueue("scene-clip", {"id": "scene-clip", "title": "Clip"}, title="Clip")
    (job,) = store.dequeue(1)
    possible = store.dead_letter(
        job,
        error_class=ErrorClass.POSSIBLE_MATCH,
        message="Only the file name matches: /other/clip.mp4 (item 17)",
        attempts=1,
    )
    show_and_wait(qtbot, window)
    window.dlq.select_ids({ordinary})
    assert not window.dlq.confirm_button.isEnabled()
    window.dlq.select_ids({ordinary, possible})
    assert not window.dlq.confirm_button.isEnabled()  # one match at a time: the user read it
    window.dlq.select_ids({possible})
    assert window.dlq.confirm_button.isEnabled()
    qtbot.mouseClick(window.dlq.confirm_button, Qt.MouseButton.LeftButton)
    assert bridge.calls == [("dlq_confirm", (possible,))]


def test_retry_selected_moves_the_entry_back_to_the_queue(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock, bridge: FakeBridge
) -> None:
    ids = seed_dlq(store, clock, 3)
    show_and_wait(qtbot, window)
    target = store.dlq_get(ids[1])
    assert target is not None
    window.dlq.select_ids({target.id})
    assert window.dlq.retry_selected_button.isEnabled()

    qtbot.mouseClick(window.dlq.retry_selected_button, Qt.MouseButton.LeftButton)

    assert bridge.calls == [("dlq_retry", ([target.id],))]
    assert store.dlq_get(target.id) is None
    job = store.get_job(target.scene_id)
    assert job is not None and job.payload == target.payload and job.attempts == 0
    qtbot.waitUntil(lambda: window.dlq.model.rowCount() == 2)
    assert target.id not in {e.id for e in shown(window.dlq)}
    assert window.counters.values["dlq"].text() == "2"
    assert window.counters.values["pending"].text() == "1"


def test_retry_all_empties_the_dlq_into_the_queue(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock, bridge: FakeBridge
) -> None:
    seed_dlq(store, clock, 4)
    show_and_wait(qtbot, window)
    assert window.dlq.retry_all_button.text() == "Retry &all"
    qtbot.mouseClick(window.dlq.retry_all_button, Qt.MouseButton.LeftButton)
    assert bridge.calls == [("dlq_retry", (None,))]
    assert store.dlq_count() == 0 and store.counts().pending == 4
    qtbot.waitUntil(lambda: window.dlq.model.rowCount() == 0)
    assert not window.dlq.retry_all_button.isEnabled()


def test_delete_selected_asks_first_then_removes_the_entry(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock, bridge: FakeBridge
) -> None:
    ids = seed_dlq(store, clock, 3)
    show_and_wait(qtbot, window)
    questions: list[str] = []
    actions: list[str] = []

    def yes(parent: object, title: str, text: str, action: str) -> bool:
        questions.append(text)
        actions.append(action)
        return True

    window.dlq.confirm = yes
    window.dlq.select_ids({ids[0], ids[2]})

    qtbot.mouseClick(window.dlq.delete_button, Qt.MouseButton.LeftButton)

    assert len(questions) == 1 and questions[0].startswith("Delete 2 failed scenes?")
    assert actions == ["&Delete"]  # the button names the action, not "Yes" or "OK"
    assert sorted(bridge.calls[0][1][0]) == sorted([ids[0], ids[2]])
    assert [e.id for e in store.dlq_list()] == [ids[1]]
    assert store.counts().pending == 0  # deleted, not retried
    qtbot.waitUntil(lambda: [e.id for e in shown(window.dlq)] == [ids[1]])


def test_retry_all_follows_the_filter_and_says_so(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock, bridge: FakeBridge
) -> None:
    ids = seed_dlq(store, clock, 4)
    show_and_wait(qtbot, window)
    title = window.dlq.proxy.entries()[0].title
    window.dlq.filter_edit.setText(title)
    matching = [e.id for e in window.dlq.proxy.entries()]
    assert 0 < len(matching) < 4
    assert window.dlq.retry_all_button.text() == f"Retry &all shown ({len(matching)})"
    qtbot.mouseClick(window.dlq.retry_all_button, Qt.MouseButton.LeftButton)
    assert bridge.calls == [("dlq_retry", (matching,))]
    assert store.dlq_count() == 4 - len(matching)
    assert set(ids) >= set(matching)


def test_the_real_delete_dialog_names_its_action(qtbot: QtBot) -> None:
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    seen: list[list[str]] = []

    def inspect_and_cancel() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append([b.text() for b in box.buttons()])
        box.reject()

    QTimer.singleShot(50, inspect_and_cancel)
    assert not dlq_panel.confirm_action(None, "Delete", "Delete 3 failed scenes?", "&Delete")  # type: ignore[arg-type]
    assert seen and "&Delete" in seen[0] and not {"OK", "&OK", "&Yes"} & set(seen[0])


def test_delete_cancelled_changes_nothing(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock, bridge: FakeBridge
) -> None:
    ids = seed_dlq(store, clock, 2)
    show_and_wait(qtbot, window)
    window.dlq.confirm = lambda parent, title, text, action: False
    window.dlq.select_ids({ids[0]})
    window.dlq.delete_selected()
    assert bridge.calls == []
    assert store.dlq_count() == 2


def test_the_delete_key_deletes_the_selection(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock, bridge: FakeBridge
) -> None:
    ids = seed_dlq(store, clock, 2)
    show_and_wait(qtbot, window)
    window.dlq.confirm = lambda parent, title, text, action: True
    window.dlq.select_ids({ids[1]})
    window.dlq.view.setFocus()
    qtbot.keyClick(window.dlq.view, Qt.Key.Key_Delete)
    assert bridge.calls == [("dlq_delete", ([ids[1]],))]


def test_selection_survives_a_refresh(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock, bridge: FakeBridge
) -> None:
    ids = seed_dlq(store, clock, 3)
    show_and_wait(qtbot, window)
    window.dlq.select_ids({ids[0]})
    seed_dlq(store, clock, 1, start=50)
    with qtbot.waitSignal(window.reader.snapshot_ready):
        bridge.dead_lettered.emit([])
    assert window.dlq.model.rowCount() == 4
    assert window.dlq.selected_ids() == [ids[0]]


# --- export -------------------------------------------------------------------------------------


def test_export_writes_a_csv_that_reads_back_to_the_same_rows(
    qtbot: QtBot, window: StatusWindow, store: JobStore, clock: Clock, tmp_path: Path
) -> None:
    seed_dlq(store, clock, 5)
    show_and_wait(qtbot, window)
    target = tmp_path / "out" / "dlq.csv"
    target.parent.mkdir()
    asked: list[str] = []

    def ask(parent: object, suggested: str) -> Path:
        asked.append(suggested)
        return target

    window.dlq.ask_path = ask

    qtbot.mouseClick(window.dlq.export_button, Qt.MouseButton.LeftButton)

    assert asked and asked[0].endswith(".csv")
    assert read_csv(target) == store.dlq_list(100)
    assert "Exported 5 failed scenes" in window.statusBar().currentMessage()


def test_export_writes_only_the_rows_the_filter_shows(qtbot: QtBot, tmp_path: Path) -> None:
    panel = DlqPanel()
    qtbot.addWidget(panel)
    panel.set_entries([entry(1, title="Alpha"), entry(2, title="Beta"), entry(3, title="alphabet")])
    panel.filter_edit.setText("ALPHA")
    target = tmp_path / "f.csv"
    panel.ask_path = lambda parent, suggested: target
    assert panel.export() == target
    assert sorted(e.id for e in read_csv(target)) == [1, 3]


def test_export_cancelled_writes_nothing(qtbot: QtBot, tmp_path: Path) -> None:
    panel = DlqPanel(ask_path=lambda parent, suggested: None)
    qtbot.addWidget(panel)
    panel.set_entries([entry(1)])
    assert panel.export() is None
    assert list(tmp_path.iterdir()) == []


def test_export_error_is_reported_not_raised(qtbot: QtBot, tmp_path: Path) -> None:
    panel = DlqPanel(ask_path=lambda parent, suggested: tmp_path / "missing" / "x.csv")
    qtbot.addWidget(panel)
    panel.set_entries([entry(1)])
    with qtbot.waitSignal(panel.message) as blocker:
        assert panel.export() is None
    assert blocker.args[0].startswith("Could not export")


def test_the_save_dialog_result_gets_a_csv_suffix(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(tmp_path / "dump"), "")
    )
    assert dlq_panel.ask_export_path(None, "x.csv") == tmp_path / "dump.csv"  # type: ignore[arg-type]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: ("", ""))
    assert dlq_panel.ask_export_path(None, "x.csv") is None  # type: ignore[arg-type]


def test_export_round_trips_awkward_text(tmp_path: Path) -> None:
    awkward = DeadLetter(
        id=9,
        scene_id="42",
        title='Quote " comma , newline \n and ünïcödé',
        error_class="ValidationError",
        message="line 1\r\nline 2",
        attempts=12,
        first_failure_at=1_790_000_000.123456,
        last_failure_at=1_790_000_100.5,
        payload={"nested": {"list": [1, 2.5, None, True]}, "text": "é"},
    )
    target = tmp_path / "a.csv"
    export_csv([awkward], target)
    assert read_csv(target) == [awkward]


# --- sorting, filtering, details -----------------------------------------------------------------


def test_sorting_uses_the_raw_values(qtbot: QtBot) -> None:
    panel = DlqPanel()
    qtbot.addWidget(panel)
    panel.set_entries([entry(1, attempts=10), entry(2, attempts=2), entry(3, attempts=1)])
    panel.view.sortByColumn(ATTEMPTS, Qt.SortOrder.AscendingOrder)
    assert [e.attempts for e in shown(panel)] == [1, 2, 10]  # numbers, not "10" < "2"
    panel.view.sortByColumn(ATTEMPTS, Qt.SortOrder.DescendingOrder)
    assert [e.attempts for e in shown(panel)] == [10, 2, 1]
    assert panel.proxy.index(0, ATTEMPTS).data(SORT_ROLE) == 10


def test_default_order_is_newest_failure_first(qtbot: QtBot) -> None:
    panel = DlqPanel()
    qtbot.addWidget(panel)
    panel.set_entries([entry(1), entry(3), entry(2)])
    assert [e.id for e in shown(panel)] == [3, 2, 1]


def test_filter_matches_any_column_ignoring_case(qtbot: QtBot) -> None:
    panel = DlqPanel()
    qtbot.addWidget(panel)
    panel.set_entries(
        [entry(1, message="Plex 404"), entry(2, title="Holiday"), entry(3, message="timeout")]
    )
    qtbot.keyClicks(panel.filter_edit, "holi")
    assert [e.id for e in shown(panel)] == [2]
    assert panel.count_label.text() == "1 of 3 failed scenes match"
    panel.filter_edit.setText("404")
    assert [e.id for e in shown(panel)] == [1]
    panel.filter_edit.clear()
    assert len(shown(panel)) == 3


def test_details_pane_shows_the_full_error_and_the_payload(qtbot: QtBot) -> None:
    panel = DlqPanel()
    qtbot.addWidget(panel)
    first = entry(1, message="first line\nsecond line with detail")
    panel.set_entries([first, entry(2)])
    assert panel.details.toPlainText() == ""
    assert not panel.retry_selected_button.isEnabled()
    panel.select_ids({1})
    text = panel.details.toPlainText()
    assert text == details_text(first)
    assert "second line with detail" in text and '"tags": [' in text
    assert panel.retry_selected_button.isEnabled() and panel.delete_button.isEnabled()
    # the table shows only the first line of a long message
    assert panel.proxy.index(1, 3).data() == "first line"


def test_a_truncated_dlq_says_so(qtbot: QtBot) -> None:
    panel = DlqPanel()
    qtbot.addWidget(panel)
    panel.set_entries([entry(1), entry(2)], total=9000)
    assert panel.count_label.text() == "Newest 2 of 9,000 failed scenes"
