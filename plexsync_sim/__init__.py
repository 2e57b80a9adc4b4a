"""The Plex and Stash simulators the tests, benches and demo run against (on 127.0.0.1).

A package of its own, not part of the engine: it imports nothing of `engine` or `gui` (an
import-linter contract checks it), so the engine can never come to depend on a test double.
`plex/` is Plex Media Server as python-plexapi meets it, `stash/` is Stash's GraphQL and
websocket; the modules here are what both share (HTTP and websocket serving, the generated
catalogue, faults, child processes). `python -m plexsync_sim plex|stash` runs one.
"""
