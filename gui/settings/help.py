"""Words for the settings dialog: where to find a token or key, and errors a person can read.

Raw pydantic messages, exception class names, URL-encoded requests and server URLs stay out of
what the dialog shows; the log keeps the details.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QLabel

from engine.config.secret_store import FILE_STORAGE, SecretStore
from engine.errors import AuthError, SyncError
from gui.translations import fill

PLEX_TOKEN_ARTICLE = (
    "https://support.plex.tv/articles/204059436-finding-an-authentication-token-x-plex-token/"
)
STASH_API_DOCS = "https://docs.stashapp.cc/api/"
URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+", re.IGNORECASE)
ENCODED = re.compile(r"\S*%[0-9A-Fa-f]{2}\S*")
PYDANTIC_PREFIXES = ("Value error, ", "Assertion failed, ")


def tr(text: str) -> str:
    return QCoreApplication.translate("SettingsDialog", text)


def plex_token_help() -> str:
    return tr(
        "Where to find the token: in Plex Web open any movie, click ⋯ → Get Info → View XML; "
        "the address of the page that opens ends in <b>X-Plex-Token=…</b>: copy what follows "
        'the “=”. <a href="%1">Plex\'s help on finding the token</a>.'
    ).replace("%1", PLEX_TOKEN_ARTICLE)


def stash_key_help() -> str:
    return tr(
        "Where to find the API key: in Stash open Settings → Security → API Key and click "
        "“Generate” if there is none yet. Leave it empty when Stash has no user name and "
        'password. <a href="%1">Stash\'s API documentation</a>.'
    ).replace("%1", STASH_API_DOCS)


def storage_words(store: SecretStore | None, reason: str | None) -> str:
    """Where secrets saved now would be kept (as `engine.config.secret_store.storage_text`,
    translated; the keyring's name and its reason for failing, `store.unavailable()` asked by the
    caller off the GUI thread, are the system's words)."""
    if store is not None and reason is None:
        return store.name
    where = tr(FILE_STORAGE)
    return where if reason is None else fill(tr("%1: no usable system keyring (%2)"), where, reason)


def help_label(html: str) -> QLabel:
    """A wrapped help text whose links open in the browser."""
    label = QLabel(html)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setOpenExternalLinks(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    return label


def user_words(item: Any) -> str:
    """One pydantic error item in words: our validators' own text, or a plain rewrite."""
    kind = str(item.get("type", ""))
    context = item.get("ctx") or {}
    if kind == "missing":
        return tr("Required.")
    if kind in ("greater_than_equal", "greater_than"):
        return tr("Must be at least %1.").replace("%1", str(context.get("ge", context.get("gt"))))
    if kind in ("less_than_equal", "less_than"):
        return tr("Must be at most %1.").replace("%1", str(context.get("le", context.get("lt"))))
    if kind in ("int_parsing", "float_parsing", "int_type", "float_type", "int_from_float"):
        return tr("Enter a number.")
    if kind in ("string_type", "list_type", "bool_type", "model_type", "dict_type"):
        return tr("This value has the wrong form.")
    if kind.startswith("url_"):
        return tr("Enter a full address such as http://192.168.1.10:32400.")
    message = str(item.get("msg", ""))
    for prefix in PYDANTIC_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def without_addresses(text: str) -> str:
    """`text` without URLs and URL-encoded requests (the user typed the address already)."""
    text = URL.sub("", text)
    text = ENCODED.sub("", text)
    return re.sub(r"\s{2,}", " ", text).strip(" ;:,()")


def describe_failure(error: BaseException, service: str) -> str:
    """A failed connection test in words: what happened, and what to check."""
    if isinstance(error, AuthError):
        what = tr("the token") if service == "Plex" else tr("the API key")
        return (
            tr("%1 rejected %2. Check it and test again.")
            .replace("%1", service)
            .replace("%2", what)
        )
    if isinstance(error, SyncError):
        detail = without_addresses(error.message)
        title = without_addresses(error.title) or tr("%1 could not be reached").replace(
            "%1", service
        )
        return fill(tr("%1: %2"), title, detail) if detail else title
    if isinstance(error, ImportError):
        return tr("This build cannot test the connection yet.")
    return tr("The test failed unexpectedly; the log has the details.")
