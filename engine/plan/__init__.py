"""Pure planning shared by polling, pushing and checking: the desired Plex state of a scene,
which Plex item is a scene's file, and who owns a file.

May import `store`, `live`, `plex`, `stash` and below; no I/O of its own.
"""
