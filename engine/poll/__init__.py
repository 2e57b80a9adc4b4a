"""engine/poll."""
