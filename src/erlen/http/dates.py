"""HTTP dates: ``http_date`` formats IMF-fixdate, ``parse_date`` reads the three formats
RFC 9110 requires recipients to accept (IMF-fixdate, RFC 850, asctime) and never raises."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime

__all__ = ["http_date", "parse_date", "parse_age", "dump_age"]

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUM = {m: i for i, m in enumerate(_MONTHS, 1)}
_IMF_RE = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) ([A-Z][a-z][a-z]) (\d{4}) (\d\d):(\d\d):(\d\d) GMT"
)
_UTC = UTC


def http_date(timestamp: datetime | date | float | None = None) -> str:
    """Format as ``Wed, 21 Oct 2015 07:28:00 GMT``; naive datetimes are taken as UTC,
    numbers as Unix timestamps, None as now."""
    if timestamp is None:
        t = time.gmtime()
        y, mo, d, h, mi, s, wd = (
            t.tm_year,
            t.tm_mon,
            t.tm_mday,
            t.tm_hour,
            t.tm_min,
            t.tm_sec,
            t.tm_wday,
        )
    elif isinstance(timestamp, datetime):
        if timestamp.tzinfo is not None:
            timestamp = timestamp.astimezone(_UTC)
        y, mo, d = timestamp.year, timestamp.month, timestamp.day
        h, mi, s, wd = timestamp.hour, timestamp.minute, timestamp.second, timestamp.weekday()
    elif isinstance(timestamp, date):
        y, mo, d, h, mi, s, wd = (
            timestamp.year,
            timestamp.month,
            timestamp.day,
            0,
            0,
            0,
            timestamp.weekday(),
        )
    else:
        t = time.gmtime(timestamp)
        y, mo, d, h, mi, s, wd = (
            t.tm_year,
            t.tm_mon,
            t.tm_mday,
            t.tm_hour,
            t.tm_min,
            t.tm_sec,
            t.tm_wday,
        )
    return f"{_DAYS[wd]}, {d:02d} {_MONTHS[mo - 1]} {y:04d} {h:02d}:{mi:02d}:{s:02d} GMT"


def parse_date(value: str | None) -> datetime | None:
    """Parse an HTTP date into an aware UTC datetime; None for missing or invalid input."""
    if not value:
        return None
    m = _IMF_RE.fullmatch(value)
    if m is not None:
        month = _MONTH_NUM.get(m.group(2))
        if month is not None:
            try:
                return datetime(
                    int(m.group(3)),
                    month,
                    int(m.group(1)),
                    int(m.group(4)),
                    int(m.group(5)),
                    int(m.group(6)),
                    tzinfo=_UTC,
                )
            except ValueError:
                return None
    if len(value) > 100:
        return None
    try:
        dt = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if dt is None:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=_UTC)
    return dt.astimezone(_UTC)


def parse_age(value: str | None) -> timedelta | None:
    """Parse a delta-seconds header value (``Age``, ``Retry-After`` seconds)."""
    if not value or not value.isdigit():
        return None
    try:
        return timedelta(seconds=int(value))
    except OverflowError:
        return None


def dump_age(age: timedelta | int | None) -> str | None:
    """Format delta-seconds; negative ages are rejected."""
    if age is None:
        return None
    seconds = int(age.total_seconds()) if isinstance(age, timedelta) else int(age)
    if seconds < 0:
        raise ValueError(f"age cannot be negative ({seconds})")
    return str(seconds)
