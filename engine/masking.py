"""The one masking function for logs, errors and command output: secrets never leave the app.

`mask_text` hides what is shaped like a credential (a Plex token or API key parameter, the
user:password part of a URL); `SecretMasker` also hides the configured token and API key by
value. Pure Python: the tray and the CLI share it.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

MASK = "********"
MIN_SECRET_LEN = 4  # shorter values would mask ordinary words; a real token is never that short

_PATTERNS = (
    re.compile(r"(?i)(x-plex-token[=:]\s*)[^\s&\"',;]+"),
    re.compile(r"(?i)(apikey[=:]\s*)[^\s&\"',;]+"),
    re.compile(r"(?i)(api[_-]key[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;]+"),
    re.compile(r"(?i)(plex[_-]token[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;]+"),
)
# scheme://user:password@host — the userinfo is a credential, whatever its shape.
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/?#@\"'<>]+@")


def mask_url(url: str) -> str:
    """`http://user:pass@host` shows as `http://********@host`; other URLs are unchanged."""
    return _URL_USERINFO.sub(lambda m: m.group(1) + MASK + "@", url)


def mask_text(text: str) -> str:
    """Hide credential-shaped parts of any text (no configured values needed)."""
    text = mask_url(text)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class SecretMasker:
    """The secrets to hide; updated whenever a new config is applied."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] = ()
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        # Longest first, so a secret containing another is masked whole.
        cleaned = sorted(
            {s for s in secrets if s and len(s) >= MIN_SECRET_LEN}, key=len, reverse=True
        )
        with self._lock:
            self._secrets = tuple(cleaned)

    def mask(self, text: str) -> str:
        with self._lock:
            secrets = self._secrets
        for secret in secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return mask_text(text)


class MaskingFormatter(logging.Formatter):
    """Formats as usual, then masks the final text (tracebacks included)."""

    def __init__(self, masker: SecretMasker, fmt: str | None = None) -> None:
        super().__init__(fmt)
        self.masker = masker

    def format(self, record: logging.LogRecord) -> str:
        return self.masker.mask(super().format(record))
