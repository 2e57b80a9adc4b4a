"""Composing an engine for the tray or `plexsync run`: the instance lock, the log file, and the
live-update wiring.

May import `control`, `sync` and everything below them; never `cli` or `gui`.
"""
