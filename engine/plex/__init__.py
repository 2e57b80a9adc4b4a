"""engine/plex."""
