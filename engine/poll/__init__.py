"""Reading Stash for changes: the keyset scene poller, the object pollers (tags, performers,
studios) and the scheduler that runs them.

Independent of `push` and `check`; may import `plan` and below.
"""
