"""engine/sync."""
