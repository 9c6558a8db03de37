"""UTC time and the wire format `YYYY-MM-DDTHH:mm:ss.sssZ`."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_wire(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment.year < 1000:  # strftime's %Y does not pad these to four digits; isoformat does
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    # The same string as above, faster (a page of records formats about a thousand of them).
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"
