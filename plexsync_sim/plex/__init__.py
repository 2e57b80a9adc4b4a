"""The Plex Media Server simulator: library, listings, edits, collections, notifications."""
