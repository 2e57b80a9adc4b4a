"""HTTP sessions as both clients use them."""

from __future__ import annotations

import requests


def configured_session(session: requests.Session, base_url: str) -> requests.Session:
    """Resolve environment proxies once for our server instead of on every request.

    requests re-reads the proxy environment per request (measured: about a third of the CPU of
    a bulk sync); the answer for one base URL does not change while we run.
    """
    session.proxies.update(requests.utils.get_environ_proxies(base_url) if base_url else {})
    session.trust_env = False
    return session
