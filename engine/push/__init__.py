"""engine/push."""
