"""Where the Plex token and the Stash API key live: the system keyring when one is usable.

The config file then holds only a reference, `{"keyring": "plexsync-tray/<dir hash>/plex_token"}`.
The store is a small Protocol so the engine is tested with an in-memory fake; `KeyringStore` is
the production one (Secret Service on Linux, the macOS Keychain, the Windows Credential Manager).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend  # keyring loads only when a secret is used

logger = logging.getLogger(__name__)

SECRET_FIELDS = ("plex_token", "stash_api_key")
REF_KEY = "keyring"
REF_PREFIX = "plexsync-tray/"
MAX_REF_LENGTH = 200
FILE_STORAGE = "the settings file (readable by you only, mode 0600)"
# Each keyring call gets this long. A healthy keyring answers in milliseconds; one that waits for
# an unlock prompt waits for ever: keyring's SecretService backend calls secretstorage's
# `collection.unlock()` without a timeout (jaraco/keyring keyring/backends/SecretService.py,
# `get_preferred_collection`), and secretstorage's `unlock(timeout=None)` waits for the prompt's
# answer indefinitely (secretstorage/collection.py). Past this, the user is told the keyring did
# not answer and can press Retry once it is unlocked.
KEYRING_TIMEOUT = 5.0  # seconds

T = TypeVar("T")


class SecretStoreError(Exception):
    """The store could not be used; the text says why and never holds a secret."""


class KeyringLockedError(SecretStoreError):
    """The keyring is locked and was not unlocked (the prompt was dismissed or not shown)."""


class KeyringTimeoutError(SecretStoreError):
    """The keyring did not answer in time (a hung daemon, or an unlock prompt left open)."""


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
    """Secrets in the system keyring through the `keyring` package.

    Every call (finding the backend included: it talks to D-Bus) runs on a worker thread and is
    given `timeout` seconds; a call that does not answer raises KeyringTimeoutError, and so does
    every later call at once while it still hangs, so a hung keyring costs one time-out, not one
    per call. A keyring that does not answer is not "unavailable": that is a state of its own.
    """

    def __init__(
        self, backend: KeyringBackend | None = None, *, timeout: float = KEYRING_TIMEOUT
    ) -> None:
        self._backend = backend
        self._calls = _TimedCalls(timeout)

    def _keyring(self) -> KeyringBackend:
        """The backend; only ever called on the worker thread."""
        if self._backend is None:
            import keyring  # reads the user's keyring config and probes backends: only when used

            self._backend = keyring.get_keyring()
        return self._backend

    @property
    def name(self) -> str:
        backend = self._backend  # never waits: before the first answer it is just "the keyring"
        return "the system keyring" + (f" ({_backend_name(backend)})" if backend else "")

    def unavailable(self) -> str | None:
        try:
            return self._calls.run(self._probe)
        except KeyringTimeoutError:
            return None  # not known to be missing: the calls themselves say it did not answer
        except Exception as exc:
            return _reason(exc)

    def _probe(self) -> str | None:
        from keyring.backends import fail, null

        backend = self._keyring()
        if isinstance(backend, fail.Keyring | null.Keyring):
            return "none is installed or running"
        chained = getattr(backend, "backends", None)
        if chained is not None and not chained:
            return "none is installed or running"
        return None

    def get(self, ref: str) -> str | None:
        service, user = _split(ref)
        return self._guarded(lambda: self._keyring().get_password(service, user))

    def set(self, ref: str, value: str) -> None:
        service, user = _split(ref)
        self._guarded(lambda: self._keyring().set_password(service, user, value))

    def delete(self, ref: str) -> None:
        from keyring.errors import PasswordDeleteError

        service, user = _split(ref)

        def delete() -> None:
            try:
                self._keyring().delete_password(service, user)
            except PasswordDeleteError:
                return  # nothing stored under it

        self._guarded(delete)

    def _guarded(self, call: Callable[[], T]) -> T:
        """`call` on the worker, its failure translated into our errors (the one boundary)."""
        try:
            return self._calls.run(call)
        except SecretStoreError:
            raise
        except Exception as exc:
            if _is_locked(exc):
                raise KeyringLockedError(_reason(exc)) from exc
            raise SecretStoreError(_reason(exc)) from exc


class _TimedCalls:
    """One keyring call at a time, each on its own daemon thread, waited for `timeout` seconds.

    A thread stuck in D-Bus cannot be stopped; it is left behind (a daemon thread does not keep
    the process alive) and, while it hangs, later calls fail at once instead of piling up.
    """

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._lock = threading.Lock()  # one call at a time; released by the worker when done
        self._hung: threading.Event | None = None  # set when the call that timed out ends

    def run(self, call: Callable[[], T]) -> T:
        hung = self._hung
        if hung is not None and not hung.is_set():
            raise KeyringTimeoutError(self._no_answer())
        if not self._lock.acquire(timeout=self._timeout):
            raise KeyringTimeoutError(self._no_answer())
        done = threading.Event()
        answer: list[Any] = []
        failure: list[BaseException] = []

        def work() -> None:
            try:
                answer.append(call())
            except BaseException as exc:  # handed to the caller's thread below
                failure.append(exc)
            finally:
                self._lock.release()
                done.set()

        threading.Thread(target=work, name="plexsync-keyring", daemon=True).start()
        if not done.wait(self._timeout):
            self._hung = done
            logger.warning("The system keyring did not answer within %g s", self._timeout)
            raise KeyringTimeoutError(self._no_answer())
        if failure:
            raise failure[0]
        return answer[0]  # type: ignore[no-any-return]

    def _no_answer(self) -> str:
        return f"the system keyring did not answer within {self._timeout:g} s"


def _is_locked(exc: BaseException) -> bool:
    """keyring's KeyringLocked (SecretService, macOS), or secretstorage's own lock errors."""
    from keyring.errors import KeyringLocked

    names = {"LockedException", "PromptDismissedException"}
    return isinstance(exc, KeyringLocked) or type(exc).__name__ in names


def _split(ref: str) -> tuple[str, str]:
    service, _, user = ref.rpartition("/")
    return service, user


def _backend_name(backend: KeyringBackend) -> str:
    return str(getattr(backend, "name", type(backend).__name__))


def _reason(exc: BaseException) -> str:
    """A short reason: the exception's type and first line (backends never echo a password),
    control characters escaped."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    return printable(f"{type(exc).__name__}: {text}" if text else type(exc).__name__)


def printable(text: str, limit: int = 200) -> str:
    """`text` with every control or format character escaped (a newline as `\\n`, ESC as
    `\\x1b`) and cut to `limit`: text read from a file or a backend never starts a forged log
    line or sends a terminal escape sequence."""
    shown = "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
