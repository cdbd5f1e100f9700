"""File upload fields and validators (``flask_wtf.file``).

An upload is any object with ``FileStorage``'s interface (``filename``, ``stream``, ``save``):
erlen's, or Werkzeug's in code and tests written for Flask — duck typing, not ``isinstance``.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from wtforms import FileField as _FileField
from wtforms import MultipleFileField as _MultipleFileField
from wtforms.validators import DataRequired, StopValidation, ValidationError

from ..http.filestorage import FileStorage

__all__ = ["FileAllowed", "FileField", "FileRequired", "FileSize", "MultipleFileField"]


def _is_upload(x: Any) -> bool:
    """True for a ``FileStorage``-like object that holds a file (it has a file name: a form
    part with none is a file input left empty)."""
    return hasattr(x, "filename") and hasattr(x, "stream") and hasattr(x, "save") and bool(x)


def _uploads(valuelist: Iterable[Any]) -> list[FileStorage]:
    """The real uploads among a field's raw values."""
    return [x for x in valuelist if _is_upload(x)]


class FileField(_FileField):  # type: ignore[misc]
    """A file upload: ``data`` is erlen's ``FileStorage``, or None when nothing was sent."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        files = _uploads(valuelist)
        if files:
            self.data = files[0]
        else:
            self.raw_data = ()


class MultipleFileField(_MultipleFileField):  # type: ignore[misc]
    """Several uploads under one name: ``data`` is a list of ``FileStorage`` (or None)."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        files = _uploads(valuelist)
        if files:
            self.data = files
        else:
            self.raw_data = ()


def _uploaded(field: Any) -> list[FileStorage]:
    """The field's uploads, or [] unless it holds uploads only (one, or a list of them)."""
    data = field.data if isinstance(field.data, list) else [field.data]
    if data and all(_is_upload(x) for x in data):
        return data
    return []


class FileRequired(DataRequired):
    """The field must hold an upload (all of them, for a multiple field)."""

    def __call__(self, form: Any, field: Any) -> None:
        if not _uploaded(field):
            raise StopValidation(self.message or field.gettext("This field is required."))


file_required = FileRequired


class FileAllowed:
    """The upload's file name must end in one of ``upload_set``'s extensions: a list such as
    ``["jpg", "png"]``, or an object with ``file_allowed(storage, basename)`` (an upload set).
    """

    def __init__(self, upload_set: Any, message: str | None = None) -> None:
        self.upload_set = upload_set
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        upload_set = self.upload_set
        for storage in _uploaded(field):
            filename = (storage.filename or "").lower()
            if isinstance(upload_set, Iterable):
                if any(filename.endswith("." + ext.lower()) for ext in upload_set):
                    continue
                raise StopValidation(
                    self.message
                    or field.gettext(
                        "File does not have an approved extension: {extensions}"
                    ).format(extensions=", ".join(upload_set))
                )
            if not upload_set.file_allowed(storage, filename):
                raise StopValidation(
                    self.message or field.gettext("File does not have an approved extension.")
                )


file_allowed = FileAllowed


def _size(storage: FileStorage) -> int:
    """The upload's size in bytes, by seeking (no copy in memory); the stream is rewound.

    A stream that cannot seek back is the app's own construction (parsed uploads always can):
    a ``TypeError``, as Flask-WTF, rather than a size measured by consuming the file.
    """
    stream = storage.stream
    seekable = getattr(stream, "seekable", None)
    if not callable(getattr(stream, "seek", None)) or (seekable is not None and not seekable()):
        raise TypeError(f"The upload's stream is not seekable: {type(stream).__name__}")
    stream.seek(0, io.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


class FileSize:
    """Each upload must be ``min_size`` to ``max_size`` bytes long (both inclusive)."""

    def __init__(self, max_size: int, min_size: int = 0, message: str | None = None) -> None:
        self.min_size = min_size
        self.max_size = max_size
        self.message = message

    def __call__(self, form: Any, field: Any) -> None:
        for storage in _uploaded(field):
            if not self.min_size <= _size(storage) <= self.max_size:
                raise ValidationError(
                    self.message
                    or field.gettext(
                        "File must be between {min_size} and {max_size} bytes."
                    ).format(min_size=self.min_size, max_size=self.max_size)
                )


file_size = FileSize
