"""Timestamps as the dialects and webhooks write them."""

from datetime import datetime, timezone


def moment(timestamp):
    """Epoch seconds -> an aware UTC datetime; anything else (a datetime, an ISO string) as it is."""
    if isinstance(timestamp, (int, float)):
        return datetime.fromtimestamp(timestamp, timezone.utc)
    return timestamp


def stamp(moment: datetime) -> str:
    """A UTC datetime -> '2024-03-15T10:30:00.000Z'."""
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso(timestamp):
    """Epoch seconds -> '2024-03-15T10:30:00.000Z'; None stays None."""
    return None if timestamp is None else stamp(moment(timestamp))
