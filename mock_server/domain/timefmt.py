"""Timestamps: integer milliseconds since the epoch inside, RFC 3339 outside (T1)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from functools import lru_cache

__all__ = ["MAX_MS", "MIN_MS", "format_ms", "parse_rfc3339", "parse_duration_ms", "DURATION_HINT"]

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

MAX_MS = 253_402_300_799_999
"""9999-12-31T23:59:59.999Z: the latest instant RFC 3339 can write, so the mock's last."""

MIN_MS = -62_135_596_800_000
"""0001-01-01T00:00:00.000Z: the earliest instant RFC 3339 (and Python) can write."""

# RFC 3339 date-time with a mandatory offset (L2): no bare dates, no local times.
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
    re.ASCII,
)

# SimpleDuration, parsed after the spec's own pattern accepted it (C4).
_DURATION = re.compile(
    r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,9})?)S)?)?$", re.ASCII
)

DURATION_HINT = "write durations as ISO 8601 with a T, e.g. PT10M, PT24H or P1DT"


@lru_cache(maxsize=4096, typed=True)
def format_ms(ms: int) -> str:
    """Render epoch milliseconds as RFC 3339 UTC with exactly three fractional digits (T1)."""
    dt = _EPOCH + timedelta(milliseconds=ms)
    # The fields one by one (strftime costs more); four digits for every year (RFC 3339).
    # Cached: a create writes one instant three times, and the instants of a busy second
    # repeat.
    return (
        f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}"
        f":{dt.second:02d}.{ms % 1000:03d}Z"
    )


@lru_cache(maxsize=1024, typed=True)  # a busy list query sends the same instants again
def parse_rfc3339(text: str) -> int:
    """Parse an RFC 3339 date-time with offset into epoch milliseconds, truncating (T1).

    Raises ValueError with a human-readable reason on anything else.
    """
    m = _RFC3339.match(text)
    if m is None:
        raise ValueError(
            f"{text!r} is not an RFC 3339 date-time with an offset, e.g. 2025-05-01T00:00:00.000Z"
        )
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    frac, offset = m.group(7), m.group(8)
    if second == 60:  # leap second: RFC 3339 allows it, Python does not
        second = 59
    try:
        if offset in ("Z", "z"):
            tz = timezone.utc
        else:
            sign = 1 if offset[0] == "+" else -1
            hh, mm = int(offset[1:3]), int(offset[4:6])
            if hh > 23 or mm > 59:
                raise ValueError("offset out of range")
            tz = timezone(sign * timedelta(hours=hh, minutes=mm))
        dt = datetime(year, month, day, hour, minute, second, tzinfo=tz)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid date-time: {exc}") from None
    millis = int((frac or ".0")[1:4].ljust(3, "0"))
    delta = dt - _EPOCH
    ms = (delta.days * 86_400 + delta.seconds) * 1000 + millis
    if not MIN_MS <= ms <= MAX_MS:
        # 0001-01-01T00:00:00+01:00 is year 0 in UTC: nothing could write it back (T1).
        raise ValueError(
            f"{text!r} is outside 0001-01-01T00:00:00.000Z..9999-12-31T23:59:59.999Z once in UTC"
        )
    return ms


def parse_duration_ms(text: str) -> int:
    """Milliseconds of a SimpleDuration (days are exactly 24 hours). ValueError if malformed."""
    m = _DURATION.match(text)
    if m is None or text in ("P", "PT") or text.endswith("T") and "D" not in text:
        raise ValueError(f"{text!r} is not a duration: {DURATION_HINT}")
    days, hours, minutes, seconds = m.groups()
    total = (int(days or 0) * 86_400 + int(hours or 0) * 3_600 + int(minutes or 0) * 60) * 1000
    whole, _, fraction = (seconds or "0").partition(".")
    # Exact integer arithmetic: a float would overflow on absurdly long second counts.
    return total + int(whole) * 1000 + int(fraction[:3].ljust(3, "0"))
