"""Timestamps as the dialects and webhooks write them."""

from datetime import datetime, timezone


def iso(timestamp):
    """Epoch seconds -> '2024-03-15T10:30:00.000Z'; None stays None."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
