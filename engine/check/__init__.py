"""The library check: what differs between Plex and what Stash wants, classified, and the runner
that reads both sides and fixes on request.

Independent of `poll` and `push`; may import `plan` and below.
"""
