"""End-to-end fixtures: a private X11 desktop with a real system tray, simulators, the real app.

`desktop` is Xvfb on a free display plus trayer; `sims` the Plex and Stash simulators as
processes; `tray` a `TrayHarness` that launches the installed `plexsync-tray` with a config in a
temporary dir. Each fixture stops what it started, in reverse order, also when the test fails;
a failing test leaves a screenshot and the app's output next to its temporary dir.

Missing Debian packages skip these tests on a developer machine, with the `apt-get install`
line to run; with `CI=true` they fail instead, so CI can never pass without running them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import session_bus
import x11_desktop
from tray_harness import Secrets, Simulators, TrayHarness, app_installed
from x11_desktop import Desktop

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(missing: list[str]) -> None:
    message = (
        "the end-to-end tests need an X server, a system tray and screenshot tools; install them "
        f"with: sudo apt-get install {' '.join(missing)}"
    )
    if in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def display_tools() -> None:
    """Xvfb, trayer, xdotool, xwininfo, ImageMagick and Qt's xcb libraries, or skip/fail."""
    missing = x11_desktop.missing_packages()
    if missing:
        _unavailable(missing)
    if not app_installed():
        message = "plexsync-tray is not installed in this venv: run `make venv`"
        if in_ci():
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


@pytest.fixture(scope="session")
def bus_tools(display_tools: None) -> None:
    missing = session_bus.missing_packages()
    if missing:
        _unavailable(missing)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report: pytest.TestReport = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _failed(request: pytest.FixtureRequest) -> bool:
    reports = request.node.stash.get(_REPORTS, {})
    return any(report.failed for report in reports.values())


@pytest.fixture
def desktop(
    display_tools: None, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Desktop]:
    desk = Desktop(tmp_path / "x11").start()
    try:
        yield desk
    finally:
        if _failed(request):
            _keep_evidence(desk, tmp_path)
        desk.stop()


def _keep_evidence(desk: Desktop, tmp_path: Path) -> None:
    """Print where the screenshot and the children's output of a failed test are."""
    shot = tmp_path / "failure.png"
    try:
        desk.screenshot(shot)
    except Exception as exc:  # the display may be what failed
        print(f"no failure screenshot: {exc}")
    else:
        print(f"screenshot of the failure: {shot}")
    for child in desk.children:
        print(f"--- {child.name} (exit {child.proc.poll()}), {child.log}")
        print(child.output()[-4000:])


@pytest.fixture
def creds() -> Secrets:
    return Secrets()


@pytest.fixture
def sims(creds: Secrets) -> Iterator[Simulators]:
    with Simulators(creds) as running:
        yield running


@pytest.fixture
def tray(desktop: Desktop, sims: Simulators, creds: Secrets, tmp_path: Path) -> TrayHarness:
    """The app is started by the test (`tray.launch(...)`) and stopped with the desktop."""
    return TrayHarness(desktop, sims, creds, tmp_path)
