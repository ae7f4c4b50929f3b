"""``accesspath snapshot``: a live account read with read-only calls into a native environment file."""

from accesspath.snapshot.reader import SnapshotReport, take_snapshot

__all__ = ["SnapshotReport", "take_snapshot"]
