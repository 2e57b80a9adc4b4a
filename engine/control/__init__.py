"""The local control channel between a running engine and the CLI or a second tray: its wire
protocol, server, client and command table.

May import `sync` and below.
"""
