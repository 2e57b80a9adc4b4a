"""One vocabulary: the same words everywhere, plain words first, one time style, bodies that
add to their titles, and "last checked" beside "last synced"."""

from __future__ import annotations

from datetime import datetime

import pytest
from tray_fakes import make_status

from gui.mnemonics import plain
from gui.notifications import NotificationPolicy
from gui.presentation import counts_line, dlq_menu_label, last_sync_line, tooltip_text
from gui.timefmt import format_clock
from gui.widgets.counters import CAPTIONS, last_synced_text

pytestmark = pytest.mark.gui

NOON = datetime(2026, 9, 21, 12, 0, 0).astimezone().timestamp()


def test_failed_scenes_is_the_word_everywhere() -> None:
    status = make_status(dlq=3)
    assert counts_line(status) == "3 failed scenes"
    assert plain(dlq_menu_label(3)) == "Failed scenes (3)…"
    assert CAPTIONS["dlq"] == "Failed scenes"
    assert "dead-letter" not in tooltip_text(status, NOON).lower()


def test_an_idle_app_says_when_it_last_checked() -> None:
    status = make_status(last_sync_at=NOON - 3 * 86400, last_checked_at=NOON - 60)
    line = last_sync_line(status, NOON)
    assert line == f"Last sync: {format_clock(NOON - 3 * 86400, NOON)} · checked 11:59"
    assert "last checked 11:59" in last_synced_text(NOON - 3 * 86400, NOON - 60, NOON)


def test_one_time_style_in_tray_and_window() -> None:
    earlier = NOON - 2 * 86400
    status = make_status(last_sync_at=earlier)
    assert last_sync_line(status, NOON) == f"Last sync: {format_clock(earlier, NOON)}"


def test_notification_bodies_add_to_their_titles() -> None:
    policy = NotificationPolicy(clock=lambda: 1000.0, startup_silence=0)
    notice = policy.auth_failed("plex", "Plex rejected the token")
    assert notice is not None
    assert "rejected" not in notice.message  # the title says that already
    assert "token" in notice.message and "Settings" in notice.message
