"""All SQL: one SQLite file (`base.SqliteStore`), and a store per concern (jobs and the DLQ,
history, activity, checks, claims, possible matches, polls, the Plex index).

May import `plex`/`stash` models and the root modules; independent of `live`.
"""
