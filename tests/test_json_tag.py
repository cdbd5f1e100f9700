"""Tagged JSON: round trips, Flask wire compatibility (flask.json.tag as oracle), extension."""

from __future__ import annotations

import dataclasses
import decimal
import json
from collections import OrderedDict
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import pytest
from flask.json.tag import TaggedJSONSerializer as FlaskSerializer
from markupsafe import Markup

from erlen.json.tag import (
    JSONTag,
    TaggedJSONSerializer,
    http_date,
    parse_http_date,
)

DT = datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)

SAMPLES: list[Any] = [
    "text",
    "ünïcødé ✓",
    42,
    -1.5,
    True,
    None,
    [1, "a", None],
    (1, 2, 3),
    ("nested", (1, (2,))),
    b"\x00\xffbytes",
    Markup("<b>bold</b>"),
    UUID("12345678-1234-5678-1234-567812345678"),
    DT,
    {" t": "looks like a tag"},
    {" di": {" t": (1,)}},
    {"a": {"b": [b"x", (DT,)]}},
    {"_permanent": True, "user_id": 7, "cart": [(1, 2), (3, 4)]},
    {},
    [],
    (),
]


@pytest.mark.parametrize("value", SAMPLES, ids=repr)
def test_round_trip(value: Any) -> None:
    s = TaggedJSONSerializer()
    assert s.loads(s.dumps(value)) == value
    assert type(s.loads(s.dumps(value))) is type(value)


@pytest.mark.parametrize("value", SAMPLES, ids=repr)
def test_erlen_dumps_flask_loads(value: Any) -> None:
    assert FlaskSerializer().loads(TaggedJSONSerializer().dumps(value)) == value


@pytest.mark.parametrize("value", SAMPLES, ids=repr)
def test_flask_dumps_erlen_loads(value: Any) -> None:
    assert TaggedJSONSerializer().loads(FlaskSerializer().dumps(value)) == value


@pytest.mark.parametrize("value", SAMPLES, ids=repr)
def test_wire_format_identical_to_flask(value: Any) -> None:
    assert TaggedJSONSerializer().dumps(value) == FlaskSerializer().dumps(value)


def test_exact_wire_tags() -> None:
    s = TaggedJSONSerializer()
    assert s.dumps((1, 2)) == '{" t":[1,2]}'
    assert s.dumps(b"hi") == '{" b":"aGk="}'
    assert s.dumps(Markup("<i>")) == '{" m":"<i>"}'
    assert s.dumps(UUID(int=1)) == '{" u":"00000000000000000000000000000001"}'
    assert s.dumps(DT) == '{" d":"Thu, 04 Mar 2021 05:06:07 GMT"}'
    assert s.dumps({" t": 1}) == '{" di":{" t__":1}}'
    assert s.dumps({"a": 1, "b": [2]}) == '{"a":1,"b":[2]}'


def test_datetime_naive_is_utc_and_aware_is_converted() -> None:
    s = TaggedJSONSerializer()
    naive = datetime(2020, 1, 2, 3, 4, 5)
    assert s.loads(s.dumps(naive)) == naive.replace(tzinfo=UTC)
    plus2 = datetime(2020, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert s.loads(s.dumps(plus2)) == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
    # second precision, like Flask
    assert s.loads(s.dumps(DT.replace(microsecond=999))) == DT


def test_markup_like_objects_load_as_markup() -> None:
    class Html:
        def __html__(self) -> str:
            return "<p>x</p>"

    out = TaggedJSONSerializer().loads(TaggedJSONSerializer().dumps(Html()))
    assert out == Markup("<p>x</p>")
    assert isinstance(out, Markup)


def test_untagged_extras_use_flask_json_rules() -> None:
    @dataclasses.dataclass
    class Point:
        x: int
        y: int

    s = TaggedJSONSerializer()
    assert json.loads(s.dumps(date(2020, 5, 17))) == "Sun, 17 May 2020 00:00:00 GMT"
    assert json.loads(s.dumps(decimal.Decimal("1.10"))) == "1.10"
    assert json.loads(s.dumps(Point(1, 2))) == {"x": 1, "y": 2}


def test_unserializable_raises_type_error() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        TaggedJSONSerializer().dumps({"x": object()})


def test_loads_accepts_bytes_and_leaves_unknown_tags_alone() -> None:
    s = TaggedJSONSerializer()
    assert s.loads(b'{" t":[1]}') == (1,)
    assert s.loads('{" zz":1}') == {" zz": 1}
    assert s.loads('{"a":1,"b":2}') == {"a": 1, "b": 2}


class TagOrderedDict(JSONTag):
    __slots__ = ()
    key = " od"

    def check(self, value: Any) -> bool:
        return isinstance(value, OrderedDict)

    def to_json(self, value: Any) -> Any:
        return [[k, self.serializer.tag(v)] for k, v in value.items()]

    def to_python(self, value: Any) -> Any:
        return OrderedDict(value)


def test_register_custom_tag_at_front() -> None:
    s = TaggedJSONSerializer()
    s.register(TagOrderedDict, index=0)
    value = OrderedDict([("b", (1,)), ("a", 2)])
    out = s.loads(s.dumps(value))
    assert isinstance(out, OrderedDict)
    assert list(out.items()) == [("b", (1,)), ("a", 2)]
    assert s.order[0].key == " od"


def test_register_duplicate_key_needs_force() -> None:
    class OtherTuple(JSONTag):
        key = " t"

        def check(self, value: Any) -> bool:
            return False

    s = TaggedJSONSerializer()
    with pytest.raises(KeyError, match="already registered"):
        s.register(OtherTuple)
    s.register(OtherTuple, force=True)
    assert isinstance(s.tags[" t"], OtherTuple)


def test_custom_tag_for_plain_type_disables_fast_path() -> None:
    class Upper(JSONTag):
        key = " up"

        def check(self, value: Any) -> bool:
            return isinstance(value, str) and value.isupper()

        def to_json(self, value: Any) -> Any:
            return value.lower()

        def to_python(self, value: Any) -> Any:
            return value.upper()

    s = TaggedJSONSerializer()
    s.register(Upper, index=0)
    assert s.dumps("ABC") == '{" up":"abc"}'
    assert s.loads(s.dumps(["ABC", "def"])) == ["ABC", "def"]


def test_base_tag_methods_are_abstract() -> None:
    tag = JSONTag(TaggedJSONSerializer())
    with pytest.raises(NotImplementedError):
        tag.check(1)
    with pytest.raises(NotImplementedError):
        tag.to_json(1)
    with pytest.raises(NotImplementedError):
        tag.to_python(1)


def test_http_date_helpers() -> None:
    assert http_date(datetime(2015, 10, 21, 7, 28)) == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT") == datetime(
        2015, 10, 21, 7, 28, tzinfo=UTC
    )
    assert parse_http_date("garbage") is None


def test_random_uuids_match_flask() -> None:
    for _ in range(20):
        u = uuid4()
        assert TaggedJSONSerializer().dumps(u) == FlaskSerializer().dumps(u)
