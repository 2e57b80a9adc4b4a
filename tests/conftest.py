"""Shared test set-up: isolation from the developer's own config and plexapi settings."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

os.environ.setdefault("PLEXAPI_CONFIG_PATH", os.devnull)
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No test may read or write the developer's real keyring; tests that want one inject it.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def fake_clock():  # type: ignore[no-untyped-def]
    from fake_clock import FakeClock

    return FakeClock()


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """platformdirs must never point at the real user's config during tests."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in (
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_RUNTIME_DIR", "runtime"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    yield


@pytest.fixture(autouse=True)
def _own_excepthooks():  # type: ignore[no-untyped-def]
    """`setup_logging` installs masking excepthooks for the process; a test that calls it (the
    CLI's `main`, the tray's set-up) must not take pytest's own thread-error hook away."""
    saved = sys.excepthook, threading.excepthook
    yield
    sys.excepthook, threading.excepthook = saved


# --- Every GraphQL request the engine sends has a real Stash answer on record (issue 21) --------
_SENT_TO_STASH: set[str] = set()


def pytest_configure(config: pytest.Config) -> None:
    """Note each query text that passes the engine's one Stash boundary during the session."""
    from engine.stash.client import StashClient

    original = StashClient._post

    def noting(self: StashClient, query: str, variables: dict | None = None):  # type: ignore[no-untyped-def, type-arg]
        _SENT_TO_STASH.add(query)
        return original(self, query, variables)

    StashClient._post = noting  # type: ignore[method-assign]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when the engine sent a query the conformance corpus has no real answer for."""
    import json

    sys.path.insert(0, str(Path(__file__).parent / "conformance"))
    from corpus_tools import query_shape

    recorded = Path(__file__).parent / "conformance" / "stash_recorded.json"
    known = set(json.loads(recorded.read_text(encoding="utf-8"))["engine_query_shapes"])
    unknown = sorted({query_shape(q) for q in _SENT_TO_STASH} - known)
    if unknown:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        lines = "\n  ".join(unknown)
        message = (
            "The engine sent Stash queries with no recorded real answer (add them to"
            f" tests/conformance/stash_corpus.py and record):\n  {lines}"
        )
        if reporter is not None:
            reporter.write_line(message, red=True)
        else:
            print(message)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
