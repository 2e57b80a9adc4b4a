"""One error root for everything the engine reports, split by what the engine should do about it.

Third-party exceptions (plexapi, requests, graphql) are translated into these at one boundary each
(`plex_client.py`, `stash_client.py`); retry and breaker decisions test only these types.
"""

from __future__ import annotations

from enum import StrEnum

from engine.masking import mask_text


class ErrorClass(StrEnum):
    """What kind of failure happened; decides retry, breaker and DLQ behaviour."""

    UNREACHABLE = "unreachable"  # connection refused/reset, DNS, timeouts: an outage
    TRANSIENT = "transient"  # 5xx, 429, malformed answer: retry with backoff
    NOT_FOUND = "not_found"  # the scene's file is not (yet) in Plex
    AMBIGUOUS = "ambiguous"  # more than one Plex item matches
    POSSIBLE_MATCH = "possible_match"  # only a file name matches: the user confirms, or not
    AUTH = "auth"  # 401/403: pause, never dead-letter
    PERMANENT = "permanent"  # other 4xx, bad data: dead-letter at once


class SyncError(Exception):
    """Root of engine errors: a short title and a message a user can read."""

    error_class: ErrorClass = ErrorClass.PERMANENT
    service: str = "plex"  # which side failed: only Plex failures count for the breaker

    def __init__(self, title: str, message: str = "") -> None:
        # Masked once here, so no DLQ entry, log line or tooltip built from an error holds a
        # credential (a URL's user:password, a token parameter).
        title, message = mask_text(title), mask_text(message)
        super().__init__(f"{title}: {message}" if message else title)
        self.title = title
        self.message = message


class TransientError(SyncError):
    """Worth retrying later; `retry_after` is the server's own hint in seconds."""

    error_class = ErrorClass.TRANSIENT

    def __init__(self, title: str, message: str = "", *, retry_after: float | None = None) -> None:
        super().__init__(title, message)
        self.retry_after = retry_after


class UnreachableError(TransientError):
    """The service could not be reached at all. Counts for the breaker, never for a job."""

    error_class = ErrorClass.UNREACHABLE


class NotFoundError(SyncError):
    """The scene has no matching item in Plex (yet)."""

    error_class = ErrorClass.NOT_FOUND


class PermanentError(SyncError):
    """Retrying will not help: dead-letter at once."""

    error_class = ErrorClass.PERMANENT


class StashQueryError(PermanentError):
    """Stash answered, but refused this request (a resolver error inside HTTP 200).

    An answer about the request, not about Stash's health: it never shows Stash as down."""

    service = "stash"


class StashGoneError(StashQueryError):
    """Stash answered that an object the request named no longer exists."""


class AmbiguousMatchError(PermanentError):
    """More than one Plex item could be the scene's file."""

    error_class = ErrorClass.AMBIGUOUS

    def __init__(self, title: str, message: str = "", *, candidates: list[str]) -> None:
        super().__init__(title, message)
        self.candidates = candidates


class PossibleMatchError(PermanentError):
    """A Plex item has the scene's file name, but nothing vouches that it is the scene's file
    (`matching.PathIndex.find`): never written to until the user confirms it.

    `candidates` are (Stash file, Plex file, rating key), one per Plex item of that name."""

    error_class = ErrorClass.POSSIBLE_MATCH

    def __init__(
        self, title: str, message: str = "", *, candidates: list[tuple[str, str, str]]
    ) -> None:
        super().__init__(title, message)
        self.candidates = candidates


class AuthError(SyncError):
    """The service rejected our credentials; syncing pauses until the config changes."""

    error_class = ErrorClass.AUTH

    def __init__(self, title: str, message: str = "", *, service: str) -> None:
        super().__init__(title, message)
        self.service = service


class ConfigError(SyncError):
    """The configuration is missing or invalid."""


def classify(exc: BaseException) -> ErrorClass:
    """The error class of any exception; unknown exceptions are transient (retry, then DLQ)."""
    if isinstance(exc, SyncError):
        return exc.error_class
    return ErrorClass.TRANSIENT
