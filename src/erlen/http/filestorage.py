"""``FileStorage``: an uploaded file (multipart form part) wrapping its stream."""

from __future__ import annotations

import os
import shutil
from io import BytesIO
from typing import IO, Any

from erlen.http.headerparse import parse_options_header
from erlen.http.headers import Headers

__all__ = ["FileStorage"]


class FileStorage:
    """An uploaded file: ``filename``, ``content_type``, ``save()``; unknown attributes
    (``read``, ``seek``, ...) are forwarded to the underlying stream."""

    def __init__(
        self,
        stream: IO[bytes] | None = None,
        filename: str | os.PathLike[str] | bytes | None = None,
        name: str | None = None,
        content_type: str | None = None,
        content_length: int | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.name = name
        self.stream: IO[bytes] = stream if stream is not None else BytesIO()
        if filename is None:
            filename = getattr(stream, "name", None)
            if filename is not None:
                text = os.fsdecode(filename)  # type: ignore[arg-type]
                filename = None if (text[:1] == "<" and text[-1:] == ">") else text
        elif not isinstance(filename, str):
            filename = os.fsdecode(filename)
        self.filename: str | None = filename  # type: ignore[assignment]
        if headers is None:
            headers = Headers()
        self.headers = headers
        if content_type is not None:
            headers["Content-Type"] = content_type
        if content_length is not None:
            headers["Content-Length"] = str(content_length)

    @property
    def content_type(self) -> str | None:
        """The part's ``Content-Type`` header."""
        return self.headers.get("Content-Type")  # type: ignore[no-any-return]

    @property
    def content_length(self) -> int:
        """The part's ``Content-Length`` header, 0 if missing or invalid."""
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return 0

    @property
    def mimetype(self) -> str:
        """The content type without parameters, lower-cased."""
        return parse_options_header(self.content_type)[0].lower()

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type's parameters (``charset`` ...)."""
        return parse_options_header(self.content_type)[1]

    def save(self, dst: str | os.PathLike[str] | IO[bytes], buffer_size: int = 16384) -> None:
        """Copy the file to a path or a writable file object (which is not closed)."""
        if isinstance(dst, (str, os.PathLike)):
            with open(dst, "wb") as f:
                shutil.copyfileobj(self.stream, f, buffer_size)
        else:
            shutil.copyfileobj(self.stream, dst, buffer_size)

    def close(self) -> None:
        """Close the underlying stream, ignoring errors."""
        try:
            self.stream.close()
        except Exception:
            pass

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __getattr__(self, name: str) -> Any:
        if name == "stream":  # not yet set during __init__
            raise AttributeError(name)
        try:
            return getattr(self.stream, name)
        except AttributeError:
            inner = getattr(self.stream, "_file", None)
            if inner is not None:
                return getattr(inner, name)
            raise

    def __iter__(self) -> Any:
        return iter(self.stream)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.filename!r} ({self.content_type!r})>"
