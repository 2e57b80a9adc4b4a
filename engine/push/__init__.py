"""Writing to Plex: the dispatcher and its lanes, the scene pusher, and following the Plex index.

Independent of `poll` and `check`; may import `plan` and below.
"""
