"""The only place that knows Plex's API: the plexapi-based client, the origin-pinned transport
and connections, the models and the `PlexTarget` port.

plexapi is imported here and nowhere else. May import `config`, `http` and the root modules;
independent of `stash`.
"""
