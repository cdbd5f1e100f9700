"""Typed accessors for response headers (``Content-Length``, dates, ``Vary``...) and
``set_cookie``/``delete_cookie``.

Split out of ``response.py`` to keep that module small; ``Response`` inherits
these. Each property reads or writes one header of ``self.headers``, so the
header list stays the single source of truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from .cachecontrol import ResponseCacheControl, parse_cache_control_header
from .datastructures import Headers, HeaderSet
from .parsing import dump_cookie, http_date, parse_date

__all__ = ["ResponseHeaderProperties"]


class ResponseHeaderProperties:
    """Mixin: properties over ``self.headers`` for the common response headers."""

    headers: Headers
    max_cookie_size: int

    @property
    def content_length(self) -> int | None:
        """``Content-Length`` as an int, or None if missing or invalid."""
        value = self.headers.get("Content-Length")
        if value is None:
            return None
        try:
            n = int(value)
        except ValueError:
            return None
        return n if n >= 0 else None

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        if value is None:
            self.headers.remove("Content-Length")
        else:
            self.headers["Content-Length"] = str(int(value))

    @property
    def location(self) -> str | None:
        """The ``Location`` header (redirect target)."""
        return self.headers.get("Location")

    @location.setter
    def location(self, value: str | None) -> None:
        self._set_or_remove("Location", value)

    def _set_or_remove(self, name: str, value: str | None) -> None:
        if value is None:
            self.headers.remove(name)
        else:
            self.headers[name] = value

    def _get_date(self, name: str) -> datetime | None:
        return parse_date(self.headers.get(name))

    def _set_date(self, name: str, value: datetime | int | float | str | None) -> None:
        if value is None:
            self.headers.remove(name)
        elif isinstance(value, str):
            self.headers[name] = value
        else:
            self.headers[name] = http_date(value)

    @property
    def last_modified(self) -> datetime | None:
        """``Last-Modified`` as an aware datetime."""
        return self._get_date("Last-Modified")

    @last_modified.setter
    def last_modified(self, value: datetime | int | float | str | None) -> None:
        self._set_date("Last-Modified", value)

    @property
    def expires(self) -> datetime | None:
        """``Expires`` as an aware datetime."""
        return self._get_date("Expires")

    @expires.setter
    def expires(self, value: datetime | int | float | str | None) -> None:
        self._set_date("Expires", value)

    @property
    def date(self) -> datetime | None:
        """``Date`` as an aware datetime."""
        return self._get_date("Date")

    @date.setter
    def date(self, value: datetime | int | float | str | None) -> None:
        self._set_date("Date", value)

    @property
    def age(self) -> timedelta | None:
        """``Age`` as a timedelta (seconds in the cache)."""
        value = self.headers.get("Age")
        if value is None:
            return None
        try:
            seconds = int(value)
        except ValueError:
            return None
        return timedelta(seconds=seconds) if seconds >= 0 else None

    @age.setter
    def age(self, value: timedelta | int | None) -> None:
        if value is None:
            self.headers.remove("Age")
        elif isinstance(value, timedelta):
            self.headers["Age"] = str(int(value.total_seconds()))
        else:
            self.headers["Age"] = str(int(value))

    @property
    def retry_after(self) -> datetime | None:
        """``Retry-After`` as an aware datetime (seconds are added to now)."""
        value = self.headers.get("Retry-After")
        if value is None:
            return None
        if value.isdigit():
            return datetime.now(UTC) + timedelta(seconds=int(value))
        return parse_date(value)

    @retry_after.setter
    def retry_after(self, value: datetime | int | str | None) -> None:
        if value is None:
            self.headers.remove("Retry-After")
        elif isinstance(value, datetime):
            self.headers["Retry-After"] = http_date(value)
        else:
            self.headers["Retry-After"] = str(value)

    def _header_set(self, name: str) -> HeaderSet:
        headers = self.headers

        def on_update(hs: HeaderSet) -> None:
            if not hs:
                headers.remove(name)
            else:
                headers[name] = hs.to_header()

        raw = headers.get(name)
        items = [v.strip() for v in raw.split(",") if v.strip()] if raw else []
        return HeaderSet(items, on_update)

    def _set_header_set(self, name: str, value: Iterable[str] | str | None) -> None:
        if not value:
            self.headers.remove(name)
        elif isinstance(value, str):
            self.headers[name] = value
        else:
            self.headers[name] = ", ".join(value)

    @property
    def vary(self) -> HeaderSet:
        """The ``Vary`` header as a set; changes are written back to the header."""
        return self._header_set("Vary")

    @vary.setter
    def vary(self, value: Iterable[str] | str | None) -> None:
        self._set_header_set("Vary", value)

    @property
    def allow(self) -> HeaderSet:
        """The ``Allow`` header (e.g. of an OPTIONS or 405 answer) as a set."""
        return self._header_set("Allow")

    @allow.setter
    def allow(self, value: Iterable[str] | str | None) -> None:
        self._set_header_set("Allow", value)

    @property
    def cache_control(self) -> ResponseCacheControl:
        """``Cache-Control`` directives; setting one (``.max_age = 60``) rewrites the header."""
        headers = self.headers

        def on_update(cc: Any) -> None:
            if cc:
                headers["Cache-Control"] = cc.to_header()
            else:
                headers.remove("Cache-Control")

        value = headers.get("Cache-Control")
        return parse_cache_control_header(value, on_update, ResponseCacheControl)  # type: ignore[no-any-return]

    # -- cookies -------------------------------------------------------------------
    def set_cookie(
        self,
        key: str,
        value: str = "",
        max_age: timedelta | int | None = None,
        expires: str | datetime | int | float | None = None,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Add a ``Set-Cookie`` header (see ``dump_cookie`` for the options)."""
        self.headers.add(
            "Set-Cookie",
            dump_cookie(
                key,
                value=value,
                max_age=max_age,
                expires=expires,
                path=path,
                domain=domain,
                secure=secure,
                httponly=httponly,
                samesite=samesite,
                partitioned=partitioned,
                max_size=self.max_cookie_size,
            ),
        )

    def delete_cookie(
        self,
        key: str,
        path: str | None = "/",
        domain: str | None = None,
        secure: bool = False,
        httponly: bool = False,
        samesite: str | None = None,
        partitioned: bool = False,
    ) -> None:
        """Expire a cookie on the client (same path/domain as when set)."""
        self.set_cookie(
            key,
            expires=0,
            max_age=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
            partitioned=partitioned,
        )
