"""Argument types for :mod:`erlen.rest.reqparse`: Flask-RESTful's ``inputs`` module, on the
standard library (ISO 8601 through ``datetime.fromisoformat``; datetimes in UTC are aware,
with ``datetime.timezone.utc``)."""

from __future__ import annotations

import re
import typing as t
from datetime import UTC, datetime, time, timedelta
from datetime import date as _date
from email.utils import mktime_tz, parsedate_tz

__all__ = [
    "boolean",
    "date",
    "datetime_from_iso8601",
    "datetime_from_rfc822",
    "int_range",
    "iso8601interval",
    "natural",
    "positive",
    "regex",
    "url",
]

START_OF_DAY = time(0, 0, 0, tzinfo=UTC)
END_OF_DAY = time(23, 59, 59, 999999, tzinfo=UTC)

url_regex = re.compile(
    r"^(?:http|ftp)s?://"
    r"(?:[^:@]+?:[^:@]*?@|)"  # basic auth
    r"(?:(?:[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?\.)+"
    r"(?:[A-Z]{2,6}\.?|[A-Z0-9-]{2,}\.?)|"  # domain
    r"localhost|"
    r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|"  # IPv4
    r"\[?[A-F0-9]*:[A-F0-9:]+\]?)"  # IPv6
    r"(?::\d+)?"  # port
    r"(?:/?|[/?]\S+)$",
    re.IGNORECASE,
)


def url(value: str) -> str:
    """``value`` if it is an http(s)/ftp(s) URL, else ValueError (suggesting ``http://``)."""
    if not url_regex.search(value):
        message = f"{value} is not a valid URL"
        if url_regex.search("http://" + value):
            message += f". Did you mean: http://{value}"
        raise ValueError(message)
    return value


class regex:  # noqa: N801 - Flask-RESTful's public name
    """A type accepting strings the pattern matches (``re.search``)."""

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.re = re.compile(pattern, flags)

    def __call__(self, value: str) -> str:
        if not self.re.search(value):
            raise ValueError(f'Value does not match pattern: "{self.pattern}"')
        return value

    def __deepcopy__(self, memo: t.Any) -> regex:
        return regex(self.pattern)


def _parse_iso(value: str) -> datetime | _date:
    if "T" in value or " " in value:
        # fromisoformat wants minutes: "2013-01-01T12" is 12:00
        head, _, tail = value.partition("T") if "T" in value else value.partition(" ")
        clock = re.match(r"^(\d{2})(?=$|[+-]|Z)", tail)
        if clock:
            tail = clock.group(1) + ":00" + tail[2:]
        return datetime.fromisoformat(f"{head}T{tail}".replace("Z", "+00:00"))
    return _date.fromisoformat(value)


_DURATION = re.compile(
    r"^P(?:(?P<years>\d+(?:\.\d+)?)Y)?(?:(?P<months>\d+(?:\.\d+)?)M)?(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def _parse_duration(value: str) -> timedelta:
    m = _DURATION.match(value)
    if not m or value in ("P", "PT") or value.endswith("T"):
        raise ValueError(f"not an ISO 8601 duration: {value}")
    parts = {k: float(v) for k, v in m.groupdict().items() if v}
    # a year is 365 days and a month 30 (as aniso8601, which Flask-RESTful uses, counts them)
    days = parts.pop("days", 0) + 365 * parts.pop("years", 0) + 30 * parts.pop("months", 0)
    return timedelta(days=days, **parts)


def _normalize_interval(start: t.Any, end: t.Any, value: str) -> tuple[datetime, datetime]:
    """Both ends as aware UTC datetimes (a date starts at midnight; naive is UTC)."""
    if not isinstance(start, datetime):
        start = datetime.combine(start, START_OF_DAY)
        end = datetime.combine(end, START_OF_DAY)
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
        end = end.replace(tzinfo=UTC)
    else:
        start = start.astimezone(UTC)
        end = end.astimezone(UTC)
    return start, end


def _expand_datetime(start: t.Any, value: str) -> t.Any:
    """The end of the interval a single date(time) names: its last unit given, plus one."""
    if not isinstance(start, datetime):
        return start + timedelta(days=1)
    clock = re.sub("[+-].+|Z$", "", value.split("T")[1])
    separators = clock.count(":")
    if separators == 0:
        return start + timedelta(hours=1)
    if separators == 1:
        return start + timedelta(minutes=1)
    return start + timedelta(seconds=1)


def _parse_interval(value: str) -> tuple[t.Any, t.Any]:
    if "/" not in value:
        return _parse_iso(value), None
    first, second = value.split("/", 1)
    if first.startswith("P"):
        end = _parse_iso(second)
        return end - _parse_duration(first), end
    start = _parse_iso(first)
    end = start + _parse_duration(second) if second.startswith("P") else _parse_iso(second)
    return tuple(sorted((start, end)))  # type: ignore[return-value]


def iso8601interval(value: str, argument: str = "argument") -> tuple[datetime, datetime]:
    """An ISO 8601 interval (``start/end``, ``start/duration``, ``duration/end``, or one
    date(time) meaning its whole day/hour/minute/second) as two aware UTC datetimes."""
    try:
        start, end = _parse_interval(value)
        if end is None:
            end = _expand_datetime(start, value)
        return _normalize_interval(start, end, value)
    except (ValueError, TypeError, IndexError):
        raise ValueError(
            f"Invalid {argument}: {value}. {argument} must be a valid ISO8601 date/time interval."
        ) from None


def date(value: str) -> datetime:
    """A ``YYYY-mm-dd`` date (as a datetime at midnight, as Flask-RESTful returns it)."""
    return datetime.strptime(value, "%Y-%m-%d")


def _get_integer(value: t.Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value} is not a valid integer") from None


def natural(value: t.Any, argument: str = "argument") -> int:
    """An integer ≥ 0."""
    number = _get_integer(value)
    if number < 0:
        raise ValueError(f"Invalid {argument}: {number}. {argument} must be a non-negative integer")
    return number


def positive(value: t.Any, argument: str = "argument") -> int:
    """An integer ≥ 1."""
    number = _get_integer(value)
    if number < 1:
        raise ValueError(f"Invalid {argument}: {number}. {argument} must be a positive integer")
    return number


class int_range:  # noqa: N801 - Flask-RESTful's public name
    """A type accepting integers from ``low`` to ``high`` (inclusive)."""

    def __init__(self, low: int, high: int, argument: str = "argument") -> None:
        self.low = low
        self.high = high
        self.argument = argument

    def __call__(self, value: t.Any) -> int:
        number = _get_integer(value)
        if number < self.low or number > self.high:
            raise ValueError(
                f"Invalid {self.argument}: {number}. {self.argument} must be within the range"
                f" {self.low} - {self.high}"
            )
        return number


def boolean(value: t.Any) -> bool:
    """``true``/``1`` or ``false``/``0`` (any case); a JSON boolean as it is."""
    if isinstance(value, bool):
        return value
    if not value:
        raise ValueError("boolean type must be non-null")
    lowered = value.lower()
    if lowered in ("true", "1"):
        return True
    if lowered in ("false", "0"):
        return False
    raise ValueError(f"Invalid literal for boolean(): {lowered}")


def datetime_from_rfc822(datetime_str: str) -> datetime:
    """``"Wed, 02 Oct 2002 08:00:00 EST"`` as an aware UTC datetime."""
    parsed = parsedate_tz(datetime_str)
    if parsed is None:
        raise ValueError(f"not an RFC 822 date: {datetime_str}")
    return datetime.fromtimestamp(mktime_tz(parsed), UTC)


def datetime_from_iso8601(datetime_str: str) -> datetime:
    """``"2012-01-01T23:30:00+02:00"`` as a datetime (aware when it has an offset)."""
    parsed = _parse_iso(datetime_str)
    if not isinstance(parsed, datetime):
        raise ValueError(f"not an ISO 8601 datetime: {datetime_str}")
    return parsed
