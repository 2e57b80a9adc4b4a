"""The real `plexsync-tray` in a real X11 system tray (Xvfb + trayer), against the simulators.

Colours are read from screenshots at the icon's position in trayer's panel; the engine's state
from `plexsync status --json`. The timing bounds are the ones the issue promises a user: red
within failure_threshold x poll_interval + 2 s of Plex going away, green within
recovery_timeout + poll_interval + 2 s of its return.
"""

from __future__ import annotations

import signal
import subprocess
import time

import pytest
from session_bus import SessionBus
from tray_harness import TrayHarness
from x11_desktop import wait_until

pytestmark = pytest.mark.e2e

POLL = 1.0
RECOVERY = 3.0
THRESHOLD = 2
PROBE_DELAY = 2.5  # how long the restarted Plex holds its first health check: the amber phase
RESTART_LEAD = 1.5  # restart Plex this long before the next probe is due
RED_WITHIN = THRESHOLD * POLL + 2.0
GREEN_WITHIN = RECOVERY + POLL + 2.0
STATUS_WINDOW = "^Status .+ PlexSync Tray$"  # the app named once, at the end


def test_icon_colour_follows_the_breaker_through_an_outage(tray: TrayHarness) -> None:
    plex = tray.sims.plex
    tray.launch(poll_interval=POLL, recovery_timeout=RECOVERY, failure_threshold=THRESHOLD)
    tray.wait_until_synced()

    plex.stop()
    stopped = time.monotonic()
    red_at = tray.wait_for_colour("red", RED_WITHIN + 3)
    assert red_at - stopped <= RED_WITHIN, f"red only after {red_at - stopped:.1f} s"
    titles = tray.sims.churn(5)  # work that has to wait for Plex
    first = tray.status()["breaker"]
    assert first["state"] == "open"

    # The half-open probe runs while Plex is still down, fails, and the breaker opens again.
    again = tray.wait_for_status(
        lambda s: s["breaker"]["state"] == "open" and s["breaker"]["retry_at"] > first["retry_at"],
        RECOVERY + POLL + 5,
        "a failed half-open probe to re-open the breaker",
    )
    assert tray.colour() == "red"
    assert "half_open -> open" in tray.log_text()

    # Plex returns before the next probe (its start-up takes a moment), and answers that probe
    # slowly: amber while it is in flight.
    retry_at = again["breaker"]["retry_at"]
    wait_until(lambda: time.time() >= retry_at - RESTART_LEAD, RECOVERY, "the next probe to near")
    tray.sims.plex_back_with_slow_probe(PROBE_DELAY)
    returned = time.monotonic()
    head_start = retry_at - time.time()
    assert head_start > 0, "Plex took too long to restart: the probe found it down"
    samples = tray.colours_until("green", GREEN_WITHIN + 3)
    green_at = samples[-1][0]
    colours = [colour for _, colour in samples]
    assert "amber" in colours, f"no amber while the probe was in flight: {colours}"
    amber = [stamp for stamp, colour in samples if colour == "amber"]
    assert amber[-1] - amber[0] >= 1.0, "amber for less than a second"
    assert set(colours) <= {"red", "amber", "green"}, colours
    assert green_at - returned <= GREEN_WITHIN, f"green only after {green_at - returned:.1f} s"
    assert plex.control("GET", "fault")["faults"] == [], "the slow probe never reached Plex"

    print(
        f"red {red_at - stopped:.2f} s after Plex stopped; amber for {amber[-1] - amber[0]:.2f} s; "
        f"green {green_at - returned:.2f} s after Plex returned "
        f"({head_start:.2f} s before the probe was due)"
    )
    drained = tray.wait_until_drained(timeout=20)
    assert drained["dlq"]["count"] == 0
    assert set(titles) <= tray.sims.plex_titles()
    assert tray.leaks() == []


def test_reset_circuit_breaker_from_the_tray_menu_turns_the_icon_green(tray: TrayHarness) -> None:
    # A recovery timeout of an hour: only the user's reset can close the breaker in this test.
    tray.launch(poll_interval=POLL, recovery_timeout=3600, failure_threshold=THRESHOLD)
    tray.wait_until_synced()
    tray.sims.plex.stop()
    tray.wait_for_colour("red", RED_WITHIN + 3)
    tray.sims.plex.start()
    assert tray.status()["breaker"]["state"] == "open"
    assert tray.colour() == "red"

    tray.open_menu()
    # Enabled entries while open: Sync now, Retry now, Reset circuit breaker (the status line
    # at the top is disabled and skipped).
    tray.desktop.keys("Down", "Down", "Down")
    tray.desktop.keys("Return")
    chosen = time.monotonic()
    green_at = tray.wait_for_colour("green", 5)
    assert green_at - chosen <= 1.5, f"green only after {green_at - chosen:.1f} s"
    print(f"green {green_at - chosen:.2f} s after Reset circuit breaker")

    log = tray.log_text()
    assert "Circuit breaker open -> closed" in log  # a reset, not "Retry now" (half-open first)
    assert "open -> half_open" not in log
    assert tray.status()["breaker"]["state"] == "closed"
    assert tray.leaks() == []


def test_second_launch_exits_0_and_the_first_shows_its_window(tray: TrayHarness) -> None:
    first = tray.launch()
    tray.wait_until_synced()
    assert tray.desktop.visible_windows(STATUS_WINDOW) == []

    second = tray.second_launch()
    assert second.returncode == 0, second.stderr
    assert "already running" in second.stderr
    wait_until(lambda: tray.desktop.visible_windows(STATUS_WINDOW), 10, "the status window")
    assert first.running
    assert tray.desktop.tray_icon() is not None  # still docked, one icon
    assert tray.leaks() == []


def test_sigterm_quits_within_2_s_and_loses_no_job(tray: TrayHarness) -> None:
    app = tray.launch()
    tray.wait_until_synced()
    # Slow Plex edits keep jobs in flight when the signal comes.
    tray.sims.plex.control("POST", "fault", {"match": "^PUT ", "status": None, "delay": 0.5})
    before = tray.status()["synced_today"]
    titles = tray.sims.churn(10)
    tray.wait_for_status(
        lambda s: s["synced_today"] > before and s["queue"]["pending"] > 0, 15, "work under way"
    )

    app.signal(signal.SIGTERM)
    sent = time.monotonic()
    try:
        code = app.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        pytest.fail("the app was still running 2 s after SIGTERM")
    assert code == 0, app.output()[-2000:]
    took = time.monotonic() - sent
    print(f"exited {took:.2f} s after SIGTERM")
    assert "QThread: Destroyed while thread" not in app.output()

    after = tray.status()
    assert after["engine_running"] is False
    assert after["queue"]["in_progress"] == 0, "a job was left marked in progress"
    assert after["queue"]["pending"] + after["queue"]["waiting"] > 0, "nothing was in flight"
    assert after["dlq"]["count"] == 0

    # Nothing lost: the queue the app left behind finishes the work.
    tray.sims.plex.control("DELETE", "fault")
    finished = tray.cli("run", "--once")
    assert finished.returncode == 0, finished.stderr
    final = tray.status()
    assert not any(final["queue"].values()) and final["dlq"]["count"] == 0
    assert set(titles) <= tray.sims.plex_titles()
    assert tray.leaks() == [], f"(SIGTERM took {took:.2f} s)"


@pytest.mark.usefixtures("bus_tools")
def test_tooltip_says_the_state_and_never_the_token(tray: TrayHarness) -> None:
    """Over a StatusNotifierWatcher the app's tooltip is readable text (XEmbed has only pixels)."""
    with SessionBus(tray.desktop) as bus:
        tray.launch(env=bus.env(), docked=False, failure_threshold=THRESHOLD, recovery_timeout=60)
        item = wait_until(bus.item, 15, "the app's StatusNotifierItem")
        assert isinstance(item, tuple)
        tray.wait_until_drained(timeout=30)
        tooltips = [tooltip_saying(bus, item, "Last sync: ", 10)]
        assert "Plex is in step" in tooltips[0]

        tray.sims.plex.stop()
        tooltips.append(
            tooltip_saying(bus, item, "Plex is unreachable, retrying in", RED_WITHIN + 3)
        )
        assert all(tip.startswith("PlexSync Tray\n") for tip in tooltips)
        assert tray.leaks(extra=[*tooltips, *bus.answers]) == []
        tray.app.stop()  # before the bus goes away


def tooltip_saying(bus: SessionBus, item: tuple[str, str], words: str, timeout: float) -> str:
    """Poll the item's tooltip until it contains `words`."""
    seen: list[str] = []

    def read() -> str | None:
        seen.append(bus.tooltip(item))
        return seen[-1] if words in seen[-1] else None

    try:
        found = wait_until(read, timeout, f"a tooltip saying {words!r}", interval=0.2)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}; last tooltip: {seen[-1:]}") from None
    assert isinstance(found, str)
    return found


def test_idle_sigterm_exits_0_without_an_abort(tray: TrayHarness) -> None:
    """Idle after a day's work: nothing in flight, hundreds of engine events relayed before.

    Each relayed event is a signal emit; with PySide6 6.12 every emit used to cost `True` one
    reference, and a clean exit (no job in flight, so the interpreter finalizes) then aborted.
    """
    app = tray.launch()
    tray.wait_until_synced()
    for _ in range(3):
        before = tray.status()["synced_today"]
        tray.sims.churn(30)
        tray.wait_for_status(lambda s, b=before: s["synced_today"] >= b + 20, 30, "a batch synced")
        tray.wait_until_drained(30)
    time.sleep(3 * POLL)  # idle ticks and probes
    app.signal(signal.SIGTERM)
    try:
        code = app.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        pytest.fail("the app was still running 2 s after SIGTERM")
    output = app.output()
    assert "Fatal Python error" not in output, output[-2000:]
    assert code == 0, output[-2000:]


def test_stash_outage_turns_the_icon_blue_and_back(tray: TrayHarness) -> None:
    stash = tray.sims.stash
    tray.launch(poll_interval=POLL)
    tray.wait_until_synced()
    stash.stop()
    tray.wait_for_colour("blue", 3 * POLL + 5)
    assert tray.status()["stash"]["health"] == "unreachable"
    tray.last_image.crop(tray.icon_rect.grown(4)).scaled(4).save_png(  # type: ignore[union-attr]
        tray.config_dir.parent / "stash-down.png"
    )
    stash.start()
    tray.wait_for_colour("green", 3 * POLL + 5)


@pytest.mark.usefixtures("bus_tools")
def test_a_database_that_cannot_open_shows_why_and_quits(tray: TrayHarness) -> None:
    (tray.config_dir / "data" / "plexsync.sqlite3").mkdir(parents=True)  # not a file: won't open
    with SessionBus(tray.desktop) as bus:
        app = tray.launch(env=bus.env(), docked=False)
        item = wait_until(bus.item, 15, "the app's StatusNotifierItem")
        assert isinstance(item, tuple)
        tip = tooltip_saying(bus, item, "could not open its database", 10)
        assert "Quit and start PlexSync Tray again" in tip
        app.signal(signal.SIGTERM)
        try:
            code = app.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            pytest.fail("the app was still running 2 s after SIGTERM")
        assert code == 0, app.output()[-2000:]
        assert tray.leaks(extra=[tip, *bus.answers]) == []


def test_a_broken_engine_shows_a_red_stop_sign_in_the_tray(tray: TrayHarness) -> None:
    (tray.config_dir / "data" / "plexsync.sqlite3").mkdir(parents=True)
    tray.launch()
    tray.wait_for_colour("red", 10)
    tray.last_image.crop(tray.icon_rect.grown(4)).scaled(4).save_png(  # type: ignore[union-attr]
        tray.config_dir.parent / "engine-error.png"
    )


def test_the_tray_menu_reaches_everything_by_its_mnemonics(tray: TrayHarness) -> None:
    """Open Plex, Open Stash, Open config folder, Open log folder, About and Recent activity,
    each chosen by its mnemonic letter in the real tray's menu (no pointer). There is no browser
    or file manager here (no xdg-open), so each place is shown in a dialog with Copy instead of
    the click doing nothing."""
    tray.launch()
    tray.wait_until_synced()
    for key, title in (
        ("p", "^Plex$"),
        ("h", "^Stash$"),
        ("n", "^Config folder$"),
        ("l", "^Log folder$"),
        ("a", "^About PlexSync"),
    ):
        tray.open_menu()
        tray.desktop.keys(key)
        wait_until(lambda t=title: tray.desktop.visible_windows(t), 10, f"the {title} window")
    log = tray.log_text()
    assert "No web browser opened Plex" in log and "No web browser opened Stash" in log
    assert "No file manager opened" in log

    # Recent activity (e), its newest entry (Home, Return): a synced scene. Its snapshot was
    # read a second after the last synced job, long before the five dialogs above were shown.
    tray.open_menu()
    tray.desktop.keys("e", "Home", "Return")
    wait_until(lambda: "from Recent activity in plex" in tray.log_text(), 10, "the entry opened")
    tray.open_menu()  # ... and its Show all… (s) opens the status window's activity list
    tray.desktop.keys("e", "s")
    wait_until(lambda: tray.desktop.visible_windows(STATUS_WINDOW), 10, "the status window")
    assert tray.leaks() == []


def test_about_and_open_config_folder_from_the_tray_menu(tray: TrayHarness) -> None:
    """The menu's last entries, counted up from Quit: Start at login, About…, View log…, Open
    config folder. There is no file manager here (no xdg-open), so the folder's path is shown
    in a dialog with Copy instead of the click doing nothing."""
    tray.launch()
    tray.wait_until_synced()
    tray.open_menu()
    tray.desktop.keys("Up", "Up", "Up", "Return")  # the first Up selects Quit
    about = wait_until(lambda: tray.desktop.visible_windows("^About PlexSync"), 10, "About")
    assert len(about) == 1

    tray.open_menu()
    tray.desktop.keys("Up", "Up", "Up", "Up", "Up", "Return")
    wait_until(lambda: tray.desktop.visible_windows("^Config folder$"), 10, "the path dialog")
    assert "No file manager opened" in tray.log_text()
    assert tray.leaks() == []
