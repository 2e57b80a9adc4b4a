"""HTTP shared by both servers' clients: sessions that send credentials only to the configured
origin, 1xx answers skipped, and size and time limits on every answer.

requests lives here, in `plex` and in `stash` only. May import only the root modules.
"""
