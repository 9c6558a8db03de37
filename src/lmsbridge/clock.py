"""UTC time and the wire format `YYYY-MM-DDTHH:mm:ss.sssZ`."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def to_wire(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is not UTC:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    # isoformat pads years below 1000 to four digits (strftime's %Y does not on glibc), and is
    # fast: a page of records formats about a thousand of these.
    return moment.isoformat(timespec="milliseconds")[:23] + "Z"


# RFC 3339 as clients send it: a date, or a date-time with optional fraction and Z or an offset.
# A space before the offset is a "+" that an unencoded query string turned into one.
_MOMENT = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[Tt](\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)([Zz]|[+\- ]\d{2}:\d{2})?)?$"
)
MOMENT_FORMAT = (
    "a date-time such as 2026-01-31T09:30:00.000Z or 2026-01-31T10:30:00+01:00 (RFC 3339; "
    "without an offset, UTC), or a date 2026-01-31"
)


def parse_moment(value: str) -> datetime:
    """A date or RFC 3339 date-time, normalised to UTC; raises ValueError naming what is accepted."""
    match = _MOMENT.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not {MOMENT_FORMAT}")
    day, clock, offset = match.groups()
    try:
        if clock is None:
            return datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
        fraction = ""
        if "." in clock:
            clock, digits = clock.split(".")
            fraction = "." + digits[:6].ljust(6, "0")
        zone = "+00:00" if offset in (None, "Z", "z") else offset.replace(" ", "+")
        moment = datetime.fromisoformat(f"{day}T{clock}{fraction}{zone}")
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid date: {error}") from error
    return moment.astimezone(UTC)
