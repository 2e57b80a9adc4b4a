"""The websocket streams (Plex notifications, Stash subscriptions), their messages, and the rules
that turn a flood of signals into a few follow-ups.

Independent of `store`; may import `config` and the root modules.
"""
