"""engine/http."""
