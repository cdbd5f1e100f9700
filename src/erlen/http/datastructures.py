"""The HTTP data structures, one import away (Werkzeug's ``datastructures`` names).

The classes live in small modules (``multidict``, ``headers``, ``accept``, ``auth``,
``filestorage``, ``conditional``, ``headerset``); this module re-exports them.
"""

from __future__ import annotations

from erlen.http.accept import Accept, CharsetAccept, LanguageAccept, MIMEAccept
from erlen.http.auth import Authorization, WWWAuthenticate
from erlen.http.cachecontrol import RequestCacheControl, ResponseCacheControl
from erlen.http.conditional import ContentRange, ETags, IfRange, Range
from erlen.http.filestorage import FileStorage
from erlen.http.headers import EnvironHeaders, Headers
from erlen.http.headerset import HeaderSet, UserAgent
from erlen.http.multidict import (
    CallbackDict,
    CombinedMultiDict,
    FileMultiDict,
    ImmutableDict,
    ImmutableMultiDict,
    ImmutableTypeConversionDict,
    MultiDict,
    TypeConversionDict,
    iter_multi_items,
)

__all__ = [
    "Accept",
    "Authorization",
    "CallbackDict",
    "CharsetAccept",
    "CombinedMultiDict",
    "ContentRange",
    "ETags",
    "EnvironHeaders",
    "FileMultiDict",
    "FileStorage",
    "HeaderSet",
    "Headers",
    "IfRange",
    "ImmutableDict",
    "ImmutableMultiDict",
    "ImmutableTypeConversionDict",
    "LanguageAccept",
    "MIMEAccept",
    "MultiDict",
    "Range",
    "RequestCacheControl",
    "ResponseCacheControl",
    "TypeConversionDict",
    "UserAgent",
    "WWWAuthenticate",
    "iter_multi_items",
]
