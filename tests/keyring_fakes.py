"""Keyring backends that misbehave as real ones do: locked (the unlock prompt dismissed), or
hanging (an unlock prompt left open: keyring's SecretService backend calls secretstorage's
`unlock()` without a timeout). `ScriptedKeyring` lives in memory; `FileKeyring` keeps its state
in the JSON file named by PLEXSYNC_TEST_KEYRING, for the CLI run as a subprocess
(`PYTHON_KEYRING_BACKEND=keyring_fakes.FileKeyring`)."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError

HANG_LIMIT = 30.0  # seconds: a hanging fake still ends, so no test can hang for ever
STATE_VAR = "PLEXSYNC_TEST_KEYRING"


class ScriptedKeyring(KeyringBackend):
    """In memory; `locked_calls` calls fail as locked, then it unlocks; `hang()` blocks calls."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}
        self.locked_calls = 0
        self.calls: list[str] = []
        self._release: threading.Event | None = None

    def hang(self) -> None:
        self._release = threading.Event()

    def release(self) -> None:
        if self._release is not None:
            self._release.set()
            self._release = None

    def _enter(self, call: str) -> None:
        self.calls.append(call)
        release = self._release
        if release is not None:
            release.wait(HANG_LIMIT)
        if self.locked_calls > 0:
            self.locked_calls -= 1
            raise KeyringLocked("Failed to unlock the collection!")

    def get_password(self, service: str, username: str) -> str | None:
        self._enter("get")
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self._enter("set")
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self._enter("delete")
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError("not found")


class FileKeyring(KeyringBackend):
    """State in a JSON file: {"items": {"service|user": value}, "locked_calls": n, "hang": b}."""

    priority = 1  # type: ignore[assignment]

    @staticmethod
    def path() -> Path:
        return Path(os.environ[STATE_VAR])

    @classmethod
    def write_state(cls, path: Path, **state: Any) -> None:
        state.setdefault("items", {})
        path.write_text(json.dumps(state), encoding="utf-8")

    @classmethod
    def read_state(cls, path: Path) -> dict[str, Any]:
        return dict(json.loads(path.read_text(encoding="utf-8")))

    def _enter(self) -> dict[str, Any]:
        state = self.read_state(self.path())
        if state.get("hang"):
            threading.Event().wait(HANG_LIMIT)
        if state.get("locked_calls", 0) > 0:
            state["locked_calls"] -= 1
            self.write_state(self.path(), **state)
            raise KeyringLocked("Failed to unlock the collection!")
        return state

    def get_password(self, service: str, username: str) -> str | None:
        value = self._enter()["items"].get(f"{service}|{username}")
        return None if value is None else str(value)

    def set_password(self, service: str, username: str, password: str) -> None:
        state = self._enter()
        state["items"][f"{service}|{username}"] = password
        self.write_state(self.path(), **state)

    def delete_password(self, service: str, username: str) -> None:
        state = self._enter()
        if state["items"].pop(f"{service}|{username}", None) is None:
            raise PasswordDeleteError("not found")
        self.write_state(self.path(), **state)
