"""The keyring probe's "none usable" answer, remembered for an hour by `plexsync run`.

Finding out that no keyring is usable means importing `keyring` and letting it try each of its
backends: ~0.1 s of CPU on every start of a machine without one (a headless box, a timer that
runs `plexsync run --once` every few minutes). That answer rarely changes, so `plexsync run`
keeps it for an hour: a keyring that starts running is used within the hour. The tray and the
`config` commands always ask afresh, and a positive answer is never remembered.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from engine.clock import Clock, SystemClock
from engine.secret_store import SecretStore

logger = logging.getLogger(__name__)

REMEMBER_FOR = 3600.0  # seconds
KEYRING_MEMO = "keyring-probe.json"  # in the data dir


class RememberedProbe:
    """A SecretStore whose `unavailable()` reason is kept in `memo` for an hour."""

    def __init__(self, store: SecretStore, memo: Path, *, clock: Clock | None = None) -> None:
        self._store, self._memo = store, memo
        self._clock = clock or SystemClock()

    @property
    def name(self) -> str:
        return self._store.name

    def unavailable(self) -> str | None:
        remembered = self._remembered()
        if remembered is not None:
            return remembered
        reason = self._store.unavailable()
        if reason is None:
            self._memo.unlink(missing_ok=True)
        else:
            self._remember(reason)
        return reason

    def get(self, ref: str) -> str | None:
        return self._store.get(ref)

    def set(self, ref: str, value: str) -> None:
        self._store.set(ref, value)

    def delete(self, ref: str) -> None:
        self._store.delete(ref)

    def _remembered(self) -> str | None:
        try:
            data = json.loads(self._memo.read_text(encoding="utf-8"))
            reason, checked_at = data["reason"], float(data["checked_at"])
        except (OSError, ValueError, TypeError, KeyError):
            return None  # none yet, or damaged: ask the keyring
        age = self._clock.now() - checked_at
        if not isinstance(reason, str) or not reason or not 0 <= age < REMEMBER_FOR:
            return None  # stale, or the clock was set back
        return reason

    def _remember(self, reason: str) -> None:
        text = json.dumps({"reason": reason, "checked_at": self._clock.now()})
        partial = self._memo.with_name(f"{self._memo.name}.partial")
        try:
            self._memo.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(text, encoding="utf-8")
            partial.replace(self._memo)
        except OSError as exc:  # a read-only data dir: just ask again next time
            logger.debug("Could not remember the keyring probe's answer: %s", exc)
