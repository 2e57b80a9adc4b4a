"""engine/plan."""
