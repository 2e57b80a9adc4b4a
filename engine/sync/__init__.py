"""The engine loop (`SyncEngine`) and its collaborators: settling jobs, service failures and
pauses, Stash polling, commands, status snapshots, the first sync's plan.

May import `poll`, `push`, `check` and everything below them.
"""
