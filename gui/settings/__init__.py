"""The settings dialog: its tabs, fields, limits and help, and the connection tests it runs."""
