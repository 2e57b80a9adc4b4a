"""Desktop notifications that don't nag: transitions only, a cooldown per kind, aggregation.

`NotificationPolicy` is plain Python with an injected monotonic clock; it decides *whether* and
*what* to say. `TrayNotifier` connects it to the bridge and shows messages through a callable
(the tray's `showMessage`). Nothing is shown in the first seconds after start (the breaker may be
restored open, the network may not be up yet), and the whole thing follows the settings switch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QCoreApplication, QObject, QTimer, Slot

from engine.breaker import CircuitState
from engine.events import JobOutcome
from gui.translations import fill, translate_n

logger = logging.getLogger(__name__)


def tr(text: str) -> str:
    return QCoreApplication.translate("Notifications", text)


STARTUP_SILENCE_S = 15.0
DLQ_BATCH_WINDOW_S = 10.0


class NoticeKind(StrEnum):
    OUTAGE = "outage"
    RECOVERED = "recovered"
    AUTH = "auth"
    DEAD_LETTERED = "dead_lettered"
    DEMO = "demo"  # the demo's greeting: where its controls are


DEFAULT_COOLDOWNS: dict[NoticeKind, float] = {
    NoticeKind.OUTAGE: 600.0,
    NoticeKind.RECOVERED: 600.0,
    NoticeKind.AUTH: 3600.0,
    NoticeKind.DEAD_LETTERED: 900.0,
}


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    title: str
    message: str
    critical: bool = False


class NotificationPolicy:
    """Turns engine events into at most one notice per kind per cooldown.

    Dead-lettered scenes are collected for `batch_window` seconds (and through the start-up
    silence and the cooldown), then reported as one notice: "12 scenes failed, ...".
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        enabled: bool = True,
        startup_silence: float = STARTUP_SILENCE_S,
        cooldowns: dict[NoticeKind, float] | None = None,
        batch_window: float = DLQ_BATCH_WINDOW_S,
    ) -> None:
        self._clock = clock
        self.enabled = enabled
        self._quiet_until = clock() + startup_silence
        self._cooldowns = dict(DEFAULT_COOLDOWNS if cooldowns is None else cooldowns)
        self._batch_window = batch_window
        self._last_shown: dict[NoticeKind, float] = {}
        self._failed_count = 0
        self._batch_started: float | None = None
        self._skip_next_recovery = False

    # --- inputs -------------------------------------------------------------------------------

    def breaker_changed(self, old: str, new: str) -> Notice | None:
        old_state, new_state = CircuitState(old), CircuitState(new)
        if old_state is CircuitState.CLOSED and new_state is CircuitState.OPEN:
            notice = Notice(
                NoticeKind.OUTAGE,
                tr("Plex is unreachable"),
                tr("Syncing is on hold; PlexSync Tray retries by itself and keeps every change."),
                critical=True,
            )
            return self._offer(notice)
        if new_state is CircuitState.CLOSED and old_state is not CircuitState.CLOSED:
            skip, self._skip_next_recovery = self._skip_next_recovery, False
            if skip:
                return None
            notice = Notice(NoticeKind.RECOVERED, tr("Plex is back"), tr("Syncing has resumed."))
            return self._offer(notice)
        return None

    def auth_failed(self, service: str, message: str) -> Notice | None:
        name = service.strip().capitalize() or tr("A service")
        title = fill(tr("%1 rejected the sign-in"), name)
        text = (
            tr("Syncing is paused until the API key is fixed in Settings.")
            if name == "Stash"
            else tr("Syncing is paused until the token is fixed in Settings.")
        )
        if message and not _restates(message, title):
            joined = tr("%1 %2") if message.endswith(".") else tr("%1. %2")
            text = fill(joined, message, text)
        return self._offer(Notice(NoticeKind.AUTH, title, text, True))

    def dead_lettered(self, count: int) -> None:
        """Collect; `due()` reports the batch when its window has passed."""
        if count <= 0:
            return
        if self._failed_count == 0:
            self._batch_started = self._clock()
        self._failed_count += count

    def user_reset_breaker(self) -> None:
        """The user closed the breaker by hand: no "Plex is back" for that."""
        self._skip_next_recovery = True

    # --- outputs ------------------------------------------------------------------------------

    def due(self) -> Notice | None:
        """The aggregated dead-letter notice, once its window, the silence and cooldown allow."""
        if not self._failed_count or self._batch_started is None:
            return None
        now = self._clock()
        if now < self._batch_started + self._batch_window or not self._may_show(
            NoticeKind.DEAD_LETTERED, now
        ):
            return None
        count, self._failed_count, self._batch_started = self._failed_count, 0, None
        if not self.enabled:
            return None
        notice = Notice(
            NoticeKind.DEAD_LETTERED,
            translate_n("Notifications", "1 scene failed", "%n scenes failed", count),
            tr("Listed under Failed scenes in the status window; the rest keep syncing."),
        )
        self._last_shown[notice.kind] = now
        return notice

    def has_pending_batch(self) -> bool:
        return self._failed_count > 0

    # --- internals ----------------------------------------------------------------------------

    def _may_show(self, kind: NoticeKind, now: float) -> bool:
        if now < self._quiet_until:
            return False
        last = self._last_shown.get(kind)
        return last is None or now - last >= self._cooldowns.get(kind, 0.0)

    def _offer(self, notice: Notice) -> Notice | None:
        now = self._clock()
        if not self.enabled or not self._may_show(notice.kind, now):
            logger.debug("Notification %s held back", notice.kind.value)
            return None
        self._last_shown[notice.kind] = now
        return notice


ShowFn = Callable[[Notice], None]


class TrayNotifier(QObject):
    """Feeds bridge signals to a `NotificationPolicy` and shows what it lets through."""

    def __init__(
        self,
        policy: NotificationPolicy,
        show: ShowFn,
        parent: QObject | None = None,
        *,
        poll_ms: int = 1000,
    ) -> None:
        super().__init__(parent)
        self.policy = policy
        self._show = show
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.flush)

    def connect_bridge(self, bridge: QObject) -> None:
        bridge.breaker_changed.connect(self.on_bridge_breaker_changed)  # type: ignore[attr-defined]
        bridge.auth_failed.connect(self.on_bridge_auth_failed)  # type: ignore[attr-defined]
        bridge.dead_lettered.connect(self.on_bridge_dead_lettered)  # type: ignore[attr-defined]

    def set_enabled(self, enabled: bool) -> None:
        self.policy.enabled = enabled

    @Slot(str, str)
    def on_bridge_breaker_changed(self, old: str, new: str) -> None:
        self._deliver(self.policy.breaker_changed(old, new))

    @Slot(str, str)
    def on_bridge_auth_failed(self, service: str, message: str) -> None:
        self._deliver(self.policy.auth_failed(service, message))

    @Slot(object)
    def on_bridge_dead_lettered(self, outcomes: list[JobOutcome]) -> None:
        self.policy.dead_lettered(len(outcomes))
        if self.policy.has_pending_batch() and not self._timer.isActive():
            self._timer.start()  # runs only while a batch waits

    @Slot()
    def flush(self) -> None:
        self._deliver(self.policy.due())
        if not self.policy.has_pending_batch():
            self._timer.stop()

    def _deliver(self, notice: Notice | None) -> None:
        if notice is None:
            return
        logger.info("Notification: %s", notice.title)
        try:
            self._show(notice)
        except Exception:
            logger.exception("Could not show a notification")


def _restates(message: str, title: str) -> bool:
    """Whether `message` only says what `title` says (a notification body must add to it)."""
    words = {w.strip(".,:").casefold() for w in message.split()}
    return words <= {w.casefold() for w in title.split()} | {"the", "a", "token", "key", "api"}
