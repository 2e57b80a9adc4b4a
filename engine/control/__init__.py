"""engine/control."""
