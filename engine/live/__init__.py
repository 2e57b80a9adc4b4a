"""engine/live."""
