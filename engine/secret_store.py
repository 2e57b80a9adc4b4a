"""Where the Plex token and the Stash API key live: the system keyring when one is usable.

The config file then holds only a reference, `{"keyring": "plexsync-tray/<dir hash>/plex_token"}`.
The store is a small Protocol so the engine is tested with an in-memory fake; `KeyringStore` is
the production one (Secret Service on Linux, the macOS Keychain, the Windows Credential Manager).
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend  # keyring loads only when a secret is used

logger = logging.getLogger(__name__)

SECRET_FIELDS = ("plex_token", "stash_api_key")
REF_KEY = "keyring"
REF_PREFIX = "plexsync-tray/"
MAX_REF_LENGTH = 200
FILE_STORAGE = "the settings file (readable by you only, mode 0600)"


class SecretStoreError(Exception):
    """The store could not be used; the text says why and never holds a secret."""


class SecretStore(Protocol):
    """A place for secrets, addressed by reference strings."""

    @property
    def name(self) -> str:
        """Where secrets go, for the user: "the system keyring (SecretService Keyring)"."""
        ...

    def unavailable(self) -> str | None:
        """Why this store cannot be used now, or None when it can."""
        ...

    def get(self, ref: str) -> str | None:
        """The secret, or None when there is none under `ref`; SecretStoreError if unreadable."""
        ...

    def set(self, ref: str, value: str) -> None: ...

    def delete(self, ref: str) -> None:
        """Remove the secret; a missing one is not an error."""
        ...


def secret_ref(config_dir: Path, field: str) -> str:
    """The reference for `field` of the config in `config_dir` (each config dir has its own)."""
    digest = hashlib.sha256(str(config_dir.expanduser().resolve()).encode()).hexdigest()[:12]
    return f"{REF_PREFIX}{digest}/{field}"


def reference_of(value: object) -> str | None:
    """The reference string if `value` is a well-formed `{"keyring": ...}`, else None."""
    if not (isinstance(value, dict) and set(value) == {REF_KEY}):
        return None
    ref = value[REF_KEY]
    ok = isinstance(ref, str) and ref.startswith(REF_PREFIX) and len(ref) <= MAX_REF_LENGTH
    return ref if ok and ref.count("/") >= 2 and ref.isprintable() else None


def storage_text(store: SecretStore | None) -> str:
    """Where secrets saved now would be kept, and why not in the keyring if they cannot be."""
    if store is None:
        return FILE_STORAGE
    reason = store.unavailable()
    if reason is None:
        return store.name
    return f"{FILE_STORAGE}: no usable system keyring ({reason})"


class KeyringStore:
    """Secrets in the system keyring through the `keyring` package."""

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    def _keyring(self) -> KeyringBackend:
        if self._backend is None:
            import keyring  # reads the user's keyring config and probes backends: only when used

            self._backend = keyring.get_keyring()
        return self._backend

    @property
    def name(self) -> str:
        return f"the system keyring ({_backend_name(self._keyring())})"

    def unavailable(self) -> str | None:
        from keyring.backends import fail, null

        try:
            backend = self._keyring()
        except Exception as exc:
            return _reason(exc)
        if isinstance(backend, fail.Keyring | null.Keyring):
            return "none is installed or running"
        chained = getattr(backend, "backends", None)
        if chained is not None and not chained:
            return "none is installed or running"
        return None

    def get(self, ref: str) -> str | None:
        service, user = _split(ref)
        try:
            return self._keyring().get_password(service, user)
        except Exception as exc:
            raise SecretStoreError(_reason(exc)) from exc

    def set(self, ref: str, value: str) -> None:
        service, user = _split(ref)
        try:
            self._keyring().set_password(service, user, value)
        except Exception as exc:
            raise SecretStoreError(_reason(exc)) from exc

    def delete(self, ref: str) -> None:
        from keyring.errors import PasswordDeleteError

        service, user = _split(ref)
        try:
            self._keyring().delete_password(service, user)
        except PasswordDeleteError:
            return  # nothing stored under it
        except Exception as exc:
            raise SecretStoreError(_reason(exc)) from exc


def _split(ref: str) -> tuple[str, str]:
    service, _, user = ref.rpartition("/")
    return service, user


def _backend_name(backend: KeyringBackend) -> str:
    return str(getattr(backend, "name", type(backend).__name__))


def _reason(exc: BaseException) -> str:
    """A short reason: the exception's type and first line (backends never echo a password)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
