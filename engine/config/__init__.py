"""engine/config."""
