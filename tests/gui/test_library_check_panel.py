"""The "Library check" panel and its place in the status window (the tray entry: test_tray_menu)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel
from pytestqt.qtbot import QtBot
from status_fakes import Clock, FakeBridge, build_window, make_status

from engine.events import CheckProgress
from engine.store.checks import CheckKind, CheckStore, CheckSummary, Finding
from gui.widgets.library_check_panel import CheckResult, LibraryCheckPanel

SUMMARY = CheckSummary(
    run_id=3,
    started_at=1_800_000_000.0,
    finished_at=1_800_000_060.0,
    scenes=1234,
    counts={"not_in_plex": 1, "never_synced": 0, "drifted": 2, "orphan": 0, "dlq_resolved": 0},
)
FINDINGS = [
    Finding("5", CheckKind.DRIFTED, "Five", {"id": "5"}, ("title",), ("summary",), "1005"),
    Finding("9", CheckKind.DRIFTED, "Nine", {"id": "9"}, ("genre",), (), "1009"),
    Finding("12", CheckKind.NOT_IN_PLEX, "Twelve", {"id": "12"}),
]


def test_panel_shows_counts_rows_and_asks_to_fix(qtbot: QtBot) -> None:
    panel = LibraryCheckPanel()
    qtbot.addWidget(panel)
    assert not panel.fix_all_button.isEnabled()
    panel.set_result(CheckResult(SUMMARY, FINDINGS))
    assert "1,234 scenes" in panel.summary_label.text()
    assert "Drifted: 2" in panel.counts_label.text()
    assert "Not in Plex: 1" in panel.counts_label.text()
    assert panel.table.rowCount() == 3
    assert panel.table.item(0, 3).text() == "title, kept in Plex: summary"
    assert panel.table.item(2, 2).text() == "Not in Plex"
    assert not panel.fix_selected_button.isEnabled()

    model = panel.table.selectionModel()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    model.select(panel.table.model().index(1, 0), flags)
    assert panel.fix_selected_button.isEnabled()
    with qtbot.waitSignal(panel.fix_requested) as chosen:
        panel.fix_selected_button.click()
    assert chosen.args == [["9"]]
    with qtbot.waitSignal(panel.fix_requested) as everything:
        panel.fix_all_button.click()
    assert everything.args == [None]


def test_panel_shows_progress_while_a_check_runs(qtbot: QtBot) -> None:
    panel = LibraryCheckPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_progress(CheckProgress("reads", 5, 20, 1_800_000_000.0))
    assert panel.progress_bar.isVisible() and panel.progress_bar.value() == 5
    assert "5 of 20" in panel.progress_label.text()
    assert not panel.check_button.isEnabled()
    panel.set_progress(None)
    assert not panel.progress_bar.isVisible() and panel.check_button.isEnabled()
    with qtbot.waitSignal(panel.check_requested):
        panel.check_button.click()


def _seed(database: Path) -> None:
    checks = CheckStore(database)
    try:
        checks.put_findings(SUMMARY.run_id, FINDINGS)
        checks.finish_run(SUMMARY)
    finally:
        checks.close()


def test_status_window_reads_the_last_check_and_sends_commands(
    qtbot: QtBot, tmp_path: Path
) -> None:
    database = tmp_path / "plexsync.sqlite3"
    _seed(database)
    bridge = FakeBridge(status=make_status())
    window = build_window(qtbot, bridge, database, Clock())
    with qtbot.waitSignal(window.check_reader.result_ready, timeout=5000):
        window.show_library_check()
    panel = window.library_check
    assert window.tabs.currentWidget() is panel
    assert window.tabs.tabText(window.tabs.indexOf(panel)) == "&Library check"
    assert panel.table.rowCount() == 3
    panel.check_button.click()
    panel.fix_all_button.click()
    assert bridge.calls[-2:] == [("check_now", ()), ("check_fix", (None,))]

    bridge.emit_status(make_status(check=CheckProgress("stash", 10, None, 1.8e9)))
    assert panel.progress_bar.isVisible()
    with qtbot.waitSignal(window.check_reader.result_ready, timeout=5000):
        bridge.check_changed.emit(None)  # finished: the window reads the new result
