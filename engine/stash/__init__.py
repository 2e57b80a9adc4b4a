"""The only place that knows Stash's GraphQL API: the client, scene and object models, keyset
timestamps and the `StashSource` port.

May import `config`, `http` and the root modules; independent of `plex`.
"""
