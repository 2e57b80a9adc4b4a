"""engine/check."""
