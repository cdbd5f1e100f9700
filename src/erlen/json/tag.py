"""Tagged JSON: lossless JSON for the types a session commonly holds.

Plain JSON cannot tell a tuple from a list, and has no bytes, ``Markup``, ``UUID`` or
``datetime``. The serializer here wraps such values in a one-key object whose key is a
*tag* (``{" t": [...]}``), and unwraps them on load. The wire format is Flask's
(``flask.json.tag``), so session cookies signed by a Flask app keep working after the app
moves to erlen, and the other way round.

Apps can add types by subclassing :class:`JSONTag` and registering the class::

    class TagOrderedDict(JSONTag):
        key = " od"

        def check(self, value):
            return isinstance(value, OrderedDict)

        def to_json(self, value):
            return [[k, self.serializer.tag(v)] for k, v in value.items()]

        def to_python(self, value):
            return OrderedDict(value)

    app.session_interface.serializer.register(TagOrderedDict, index=0)

No pickle is used anywhere: loading can only ever build the registered types.
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from datetime import datetime
from typing import Any
from uuid import UUID

from markupsafe import Markup

from ..http.dates import http_date
from ..http.dates import parse_date as parse_http_date
from .provider import _default as _json_default

__all__ = [
    "JSONTag",
    "PassDict",
    "PassList",
    "TagBytes",
    "TagDateTime",
    "TagDict",
    "TagMarkup",
    "TagTuple",
    "TagUUID",
    "TaggedJSONSerializer",
    "http_date",
    "parse_http_date",
]

# Values of these exact types need no tag; checking them first skips the tag loop.
_UNTAGGED_TYPES = frozenset((str, int, float, bool, type(None)))


class JSONTag:
    """Base class for a tag: how one Python type is written to and read from JSON."""

    __slots__ = ("serializer",)

    #: The tag key written on the wire; empty for tags that only recurse (dict, list).
    key: str = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        self.serializer = serializer

    def check(self, value: Any) -> bool:
        """Return True if this tag handles ``value``."""
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        """Convert ``value`` to JSON-compatible data (without the tag wrapper)."""
        raise NotImplementedError

    def to_python(self, value: Any) -> Any:
        """Convert the JSON data back to the Python type."""
        raise NotImplementedError

    def tag(self, value: Any) -> Any:
        """Convert ``value`` and wrap it in ``{key: ...}``."""
        return {self.key: self.to_json(value)}


class TagDict(JSONTag):
    """A one-key dict whose key is a registered tag: suffix the key so it is not untagged."""

    __slots__ = ()
    key = " di"

    def check(self, value: Any) -> bool:
        return (
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in self.serializer.tags
        )

    def to_json(self, value: Any) -> Any:
        key = next(iter(value))
        return {f"{key}__": self.serializer.tag(value[key])}

    def to_python(self, value: Any) -> Any:
        key = next(iter(value))
        return {key[:-2]: value[key]}


class PassDict(JSONTag):
    """Any other dict: keep it, tag its values."""

    __slots__ = ()

    def check(self, value: Any) -> bool:
        return isinstance(value, dict)

    def to_json(self, value: Any) -> Any:
        serializer = self.serializer
        tag = serializer.tag
        if serializer._builtin_tags_only:  # skip the call for values that need no tag
            untagged = _UNTAGGED_TYPES
            return {k: v if v.__class__ in untagged else tag(v) for k, v in value.items()}
        return {k: tag(v) for k, v in value.items()}

    tag = to_json


class TagTuple(JSONTag):
    """A tuple, written as a list under ``" t"``."""

    __slots__ = ()
    key = " t"

    def check(self, value: Any) -> bool:
        return isinstance(value, tuple)

    def to_json(self, value: Any) -> Any:
        serializer = self.serializer
        tag = serializer.tag
        if serializer._builtin_tags_only:
            untagged = _UNTAGGED_TYPES
            return [v if v.__class__ in untagged else tag(v) for v in value]
        return [tag(item) for item in value]

    def to_python(self, value: Any) -> Any:
        return tuple(value)


class PassList(JSONTag):
    """A list: keep it, tag its items."""

    __slots__ = ()

    def check(self, value: Any) -> bool:
        return isinstance(value, list)

    def to_json(self, value: Any) -> Any:
        serializer = self.serializer
        tag = serializer.tag
        if serializer._builtin_tags_only:
            untagged = _UNTAGGED_TYPES
            return [v if v.__class__ in untagged else tag(v) for v in value]
        return [tag(item) for item in value]

    tag = to_json


class TagBytes(JSONTag):
    """Bytes, base64 encoded under ``" b"``."""

    __slots__ = ()
    key = " b"

    def check(self, value: Any) -> bool:
        return isinstance(value, bytes)

    def to_json(self, value: Any) -> Any:
        return b64encode(value).decode("ascii")

    def to_python(self, value: Any) -> Any:
        return b64decode(value)


class TagMarkup(JSONTag):
    """Anything with ``__html__`` (Markup and friends), loaded back as ``Markup``."""

    __slots__ = ()
    key = " m"

    def check(self, value: Any) -> bool:
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: Any) -> Any:
        return str(value.__html__())

    def to_python(self, value: Any) -> Any:
        return Markup(value)


class TagUUID(JSONTag):
    """A UUID, as its 32 hex digits under ``" u"``."""

    __slots__ = ()
    key = " u"

    def check(self, value: Any) -> bool:
        return isinstance(value, UUID)

    def to_json(self, value: Any) -> Any:
        return value.hex

    def to_python(self, value: Any) -> Any:
        return UUID(value)


class TagDateTime(JSONTag):
    """A datetime, as an HTTP date under ``" d"`` (second precision, loaded as aware UTC)."""

    __slots__ = ()
    key = " d"

    def check(self, value: Any) -> bool:
        return isinstance(value, datetime)

    def to_json(self, value: Any) -> Any:
        return http_date(value)

    def to_python(self, value: Any) -> Any:
        return parse_http_date(value)


_BUILTIN_ORDER: list[type[JSONTag]] = [
    TagDict,
    PassDict,
    TagTuple,
    PassList,
    TagBytes,
    TagMarkup,
    TagUUID,
    TagDateTime,
]


class TaggedJSONSerializer:
    """Serialize to and from tagged JSON (Flask's wire format), extensible by ``register``.

    Tags are tried in ``order``; the first whose ``check`` accepts a value wins. ``dumps``
    returns compact JSON text and ``loads`` accepts ``str`` or ``bytes``.
    """

    __slots__ = ("tags", "order", "_builtin_tags_only", "_encoder", "_decoder")

    #: The tag classes registered on every new serializer, in check order.
    default_tags: list[type[JSONTag]] = list(_BUILTIN_ORDER)

    def __init__(self) -> None:
        self.tags: dict[str, JSONTag] = {}
        self.order: list[JSONTag] = []
        self._builtin_tags_only = False
        # json.dumps/loads build a new encoder/decoder on every call with custom options;
        # building them once saves about a microsecond per call.
        self._encoder = json.JSONEncoder(
            separators=(",", ":"), ensure_ascii=True, default=_json_default
        )
        self._decoder = json.JSONDecoder(object_hook=self.untag)
        for cls in self.default_tags:
            self.register(cls)
        # The built-in tags leave str/int/float/bool/None alone; a user tag might not, so
        # the shortcut in ``tag`` holds only while exactly the built-ins are registered.
        self._builtin_tags_only = [type(t) for t in self.order] == _BUILTIN_ORDER

    def register(
        self, tag_class: type[JSONTag], force: bool = False, index: int | None = None
    ) -> None:
        """Add a tag. ``index`` places it in the check order (None appends);
        ``force`` replaces a tag with the same key instead of raising ``KeyError``."""
        tag = tag_class(self)
        key = tag.key
        if key:
            if not force and key in self.tags:
                raise KeyError(f"Tag '{key}' is already registered.")
            self.tags[key] = tag
        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)
        self._builtin_tags_only = False

    def tag(self, value: Any) -> Any:
        """Convert ``value`` to JSON-compatible data, tagging what needs it."""
        if self._builtin_tags_only and value.__class__ in _UNTAGGED_TYPES:
            return value
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)
        return value

    def untag(self, value: dict[str, Any]) -> Any:
        """Turn a tagged one-key object back into its Python value (json object_hook)."""
        if len(value) != 1:
            return value
        key = next(iter(value))
        tag = self.tags.get(key)
        if tag is None:
            return value
        return tag.to_python(value[key])

    def dumps(self, value: Any) -> str:
        """Tag ``value`` and encode it as compact JSON."""
        return self._encoder.encode(self.tag(value))

    def loads(self, value: str | bytes) -> Any:
        """Decode tagged JSON, restoring tagged values."""
        if not isinstance(value, str):
            value = value.decode("utf-8")
        return self._decoder.decode(value)
