"""engine/stash."""
