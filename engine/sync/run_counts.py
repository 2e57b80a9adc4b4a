"""What one engine did with its jobs since it started: the tally `plexsync run --once` reports."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class RunCounts:
    """Per-job outcomes; the engine's worker thread is the only writer."""

    synced: int = 0  # Plex was written to
    unchanged: int = 0  # Plex already matched Stash: nothing to write
    failed: int = 0  # dead-lettered
    skipped: int = 0  # not found in Plex and skip_not_found is on

    def pushed(self, *, wrote: bool) -> None:
        if wrote:
            self.synced += 1
        else:
            self.unchanged += 1

    def summary(self) -> str:
        """ "synced 12, unchanged 1,988, failed 1 (in the DLQ)": thousands separated."""
        parts = [f"synced {self.synced:,}", f"unchanged {self.unchanged:,}"]
        parts.append(f"failed {self.failed:,}" + (" (in the DLQ)" if self.failed else ""))
        if self.skipped:
            parts.append(f"skipped {self.skipped:,} (not in Plex)")
        return ", ".join(parts)
