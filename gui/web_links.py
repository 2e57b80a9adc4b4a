"""Addresses of Plex's and Stash's web apps, for "Open Plex", "Open Stash" and Recent activity.

Only the configured origin and a path: never a token, an API key or a user:password part.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit


def _origin(url: str) -> str:
    """scheme://host:port plus the path the server lives under, without credentials or query."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.hostname:
        return ""
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))


def plex_web_url(plex_url: str) -> str:
    """Plex's own web app, served by the server at /web (empty when Plex is not configured)."""
    origin = _origin(plex_url)
    return f"{origin}/web/index.html" if origin else ""


def plex_item_url(plex_url: str, server_id: str | None, rating_key: str | None) -> str:
    """An item's page in Plex Web: `#!/server/{machineIdentifier}/details?key=<the item's key,
    URL-encoded>` (the form Plex Web itself puts in the address bar for an item)."""
    web = plex_web_url(plex_url)
    if not web or not server_id or not rating_key:
        return web
    key = quote(f"/library/metadata/{rating_key}", safe="")
    return f"{web}#!/server/{quote(server_id, safe='')}/details?key={key}"


def stash_web_url(stash_url: str) -> str:
    """Stash's UI is served at its root."""
    return _origin(stash_url)


def stash_scene_url(stash_url: str, scene_id: str) -> str:
    """A scene's page in Stash's UI (`/scenes/{id}`, its React router's route)."""
    origin = _origin(stash_url)
    return f"{origin}/scenes/{quote(scene_id, safe='')}" if origin and scene_id else origin
