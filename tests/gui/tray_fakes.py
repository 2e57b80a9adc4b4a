"""Plain-Python test doubles for the GUI tests: an engine, an autostart entry, a registry."""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from engine.breaker import CircuitState
from engine.config.file import PlexSyncConfig
from engine.events import NULL_LISTENER, EngineStatus, JobOutcome, SyncListener

NOW = 1_790_000_000.0


def make_status(**changes: Any) -> EngineStatus:
    """A configured, healthy snapshot with `changes` applied."""
    base = EngineStatus.empty(configured=True, running=True)
    return dataclasses.replace(base, **changes)


class FakeEngine:
    """Implements EngineCommands + tick/add_wake_callback/request_stop like `SyncEngine`.

    Commands are queued and carried out by the next `tick()`, on the thread that runs it, and the
    listener is called from there, as the real engine does. `jobs` maps scene ids to
    "pending"/"in_progress"/"synced"; a job in flight waits on `release` (or the stop request,
    which puts it back to pending, as the real engine does with an interrupted job).
    """

    def __init__(
        self,
        listener: SyncListener = NULL_LISTENER,
        *,
        status: EngineStatus | None = None,
        jobs: dict[str, str] | None = None,
        next_delay: float = 0.05,
    ) -> None:
        self.listener = listener
        self._status = status or make_status()
        self.jobs: dict[str, str] = dict(jobs or {})
        self.next_delay = next_delay
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.applied: list[PlexSyncConfig] = []
        self.tick_threads: set[int] = set()
        self.ticks = 0
        self.script: deque[Callable[[SyncListener], None]] = deque()
        self.job_started = threading.Event()
        self.release = threading.Event()
        self.stop_requested = threading.Event()
        self._lock = threading.Lock()
        self._queue: deque[tuple[str, tuple[Any, ...]]] = deque()
        self._wake: list[Callable[[], None]] = []

    # --- EngineCommands -------------------------------------------------------------------

    def _queue_command(self, name: str, *args: Any) -> None:
        with self._lock:
            self.calls.append((name, args))
            self._queue.append((name, args))
            callbacks = list(self._wake)
        for callback in callbacks:
            callback()

    def sync_now(self) -> None:
        self._queue_command("sync_now")

    def retry_now(self) -> None:
        self._queue_command("retry_now")

    def reset_breaker(self) -> None:
        self._queue_command("reset_breaker")

    def pause(self, until: float | None) -> None:
        self._queue_command("pause", until)

    def resume(self) -> None:
        self._queue_command("resume")

    def apply_config(self, config: object) -> None:
        self._queue_command("apply_config", config)

    def dlq_retry(self, entry_ids: list[int] | None) -> None:
        self._queue_command("dlq_retry", entry_ids)

    def dlq_delete(self, entry_ids: list[int] | None) -> None:
        self._queue_command("dlq_delete", entry_ids)

    def check_now(self) -> None:
        self._queue_command("check_now")

    def check_fix(self, scene_ids: list[str] | None) -> None:
        self._queue_command("check_fix", scene_ids)

    def network_changed(self) -> None:
        self._queue_command("network_changed")

    def status(self) -> EngineStatus:
        with self._lock:
            return self._status

    def command_names(self) -> list[str]:
        with self._lock:
            return [name for name, _ in self.calls]

    # --- hosting --------------------------------------------------------------------------

    def add_wake_callback(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._wake.append(callback)

    def request_stop(self) -> None:
        self.stop_requested.set()

    def tick(self, budget: float = 0.5) -> float:
        self.ticks += 1
        self.tick_threads.add(threading.get_ident())
        while True:
            with self._lock:
                if not self._queue:
                    break
                name, args = self._queue.popleft()
            self._carry_out(name, args)
        while self.script:
            self.script.popleft()(self.listener)
        self._run_one_job()
        return self.next_delay

    # --- helpers for tests ----------------------------------------------------------------

    def set_status(self, **changes: Any) -> EngineStatus:
        """Change the snapshot and tell the listener (call from the engine thread or a test)."""
        with self._lock:
            old = self._status
            self._status = dataclasses.replace(old, **changes)
            new = self._status
        if old.breaker_state != new.breaker_state:
            self.listener.breaker_changed(old.breaker_state, new.breaker_state)
        self.listener.status_changed(new)
        return new

    def _carry_out(self, name: str, args: tuple[Any, ...]) -> None:
        if name == "reset_breaker":
            self.set_status(breaker_state=CircuitState.CLOSED, retry_at=None, opened_at=None)
        elif name == "retry_now":
            self.set_status(breaker_state=CircuitState.HALF_OPEN, retry_at=None)
        elif name == "pause":
            self.set_status(paused=True, paused_until=args[0])
        elif name == "resume":
            self.set_status(paused=False, paused_until=None)
        elif name == "apply_config":
            config = args[0]
            assert isinstance(config, PlexSyncConfig)
            self.applied.append(config)
            self.set_status(configured=config.is_configured, auth_error=None)
        elif name == "dlq_retry":
            self.set_status(dlq=0)
        elif name == "sync_now":
            self.set_status(auth_error=None)

    def _run_one_job(self) -> None:
        scene = next((s for s, state in self.jobs.items() if state == "pending"), None)
        if scene is None or self.stop_requested.is_set():
            return
        self.jobs[scene] = "in_progress"
        self.job_started.set()
        while not (self.release.is_set() or self.stop_requested.is_set()):
            self.release.wait(0.01)  # stands for an HTTP call the stop request interrupts
        if self.release.is_set():
            self.jobs[scene] = "synced"
            self.listener.job_finished(JobOutcome(scene, f"Scene {scene}", ok=True))
        else:
            self.jobs[scene] = "pending"


class FakeAutostart:
    """An autostart entry kept in memory."""

    def __init__(self, enabled: bool = False, problem: str | None = None) -> None:
        self.enabled = enabled
        self._problem = problem
        self.writes: list[bool] = []

    def is_enabled(self) -> bool:
        return self.enabled

    def problem(self) -> str | None:
        return self._problem

    def set_enabled(self, enabled: bool) -> None:
        self.writes.append(enabled)
        self.enabled = enabled
        self._problem = None

    def describe(self) -> str:
        return "a fake login entry"


class FakeWinreg:
    """Just enough of `winreg` for the Run-key writer: keys are dicts of name -> (value, type)."""

    HKEY_CURRENT_USER = "HKCU"
    KEY_READ = 1
    KEY_SET_VALUE = 2
    REG_SZ = 1
    REG_BINARY = 3

    class _Key:
        def __init__(self, values: dict[str, tuple[Any, int]]) -> None:
            self.values = values

        def __enter__(self) -> FakeWinreg._Key:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

    def __init__(self) -> None:
        self.keys: dict[tuple[str, str], dict[str, tuple[Any, int]]] = {}

    def OpenKey(self, root: str, sub_key: str, reserved: int = 0, access: int = 1) -> _Key:
        try:
            return self._Key(self.keys[(root, sub_key)])
        except KeyError:
            raise FileNotFoundError(2, "The system cannot find the file specified") from None

    def CreateKeyEx(self, root: str, sub_key: str, reserved: int = 0, access: int = 2) -> _Key:
        return self._Key(self.keys.setdefault((root, sub_key), {}))

    def QueryValueEx(self, key: _Key, name: str) -> tuple[Any, int]:
        try:
            return key.values[name]
        except KeyError:
            raise FileNotFoundError(2, "The system cannot find the file specified") from None

    def SetValueEx(self, key: _Key, name: str, reserved: int, kind: int, value: Any) -> None:
        key.values[name] = (value, kind)

    def DeleteValue(self, key: _Key, name: str) -> None:
        try:
            del key.values[name]
        except KeyError:
            raise FileNotFoundError(2, "The system cannot find the file specified") from None


class FakeRuntime:
    """Stands in for `EngineRuntime`: a FakeEngine, and a record of close()."""

    def __init__(self, engine: FakeEngine) -> None:
        self.engine = engine
        self.closed = False

    def close(self) -> None:
        self.closed = True


class FakeRuntimeFactory:
    """`runtime_factory` for TrayApp: builds a FakeEngine wired to the bridge's listener."""

    def __init__(self, **engine_kwargs: Any) -> None:
        self.engine_kwargs = engine_kwargs
        self.runtime: FakeRuntime | None = None
        self.opened_with: PlexSyncConfig | None = None

    def __call__(self, paths: Any, config: PlexSyncConfig, listener: SyncListener) -> FakeRuntime:
        self.opened_with = config
        kwargs = dict(self.engine_kwargs)
        kwargs.setdefault("status", make_status(configured=config.is_configured))
        self.runtime = FakeRuntime(FakeEngine(listener, **kwargs))
        return self.runtime

    @property
    def engine(self) -> FakeEngine:
        assert self.runtime is not None
        return self.runtime.engine
