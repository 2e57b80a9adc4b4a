"""An in-memory secret store for the engine's tests (the e2e tier uses a real gnome-keyring)."""

from __future__ import annotations

from engine.config.secret_store import SecretStoreError


class MemorySecretStore:
    """SecretStore in a dict; `broken` makes every call fail, `lossy` drops what is written."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}
        self.broken: str | None = None
        self.lossy = False
        self.calls: list[str] = []

    @property
    def name(self) -> str:
        return "the system keyring (memory)"

    def unavailable(self) -> str | None:
        return None

    def _check(self, call: str) -> None:
        self.calls.append(call)
        if self.broken is not None:
            raise SecretStoreError(self.broken)

    def get(self, ref: str) -> str | None:
        self._check("get")
        return self.values.get(ref)

    def set(self, ref: str, value: str) -> None:
        self._check("set")
        if not self.lossy:
            self.values[ref] = value

    def delete(self, ref: str) -> None:
        self._check("delete")
        self.values.pop(ref, None)
