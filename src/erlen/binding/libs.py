"""The validation libraries behind binding: which one validates a type, and its validators,
serializers and errors in one shape.

pydantic v2 validates pydantic models (and types carrying pydantic constraints); msgspec
validates msgspec Structs. For the rest the faster one by measurement (decision 024,
``bench/binding_libs.py``): msgspec for dataclasses, pydantic for scalars, each falling back
to the other when it is not installed. Both are imported here only, when a view needs them.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import sys
import types
import typing as t
from collections.abc import Callable

#: An error as the 422 body lists it: ``{"type", "loc", "msg"[, "ctx"]}``.
Error = dict[str, t.Any]
Loc = list[str | int]

_INSTALLED: dict[str, bool] = {}


def installed(name: str) -> bool:
    """Whether ``name`` (pydantic, msgspec) can be imported (looked up once)."""
    found = _INSTALLED.get(name)
    if found is None:
        found = _INSTALLED[name] = name in sys.modules or importlib.util.find_spec(name) is not None
    return found


def is_pydantic_model(tp: t.Any) -> bool:
    mod = sys.modules.get("pydantic")
    return mod is not None and isinstance(tp, type) and issubclass(tp, mod.BaseModel)


def is_struct(tp: t.Any) -> bool:
    mod = sys.modules.get("msgspec")
    return mod is not None and isinstance(tp, type) and issubclass(tp, mod.Struct)


def is_model(tp: t.Any) -> bool:
    """A type bound from a body: pydantic model, dataclass or msgspec Struct."""
    return isinstance(tp, type) and (
        dataclasses.is_dataclass(tp) or is_pydantic_model(tp) or is_struct(tp)
    )


def _walk(tp: t.Any, seen: set[int]) -> t.Iterator[t.Any]:
    """``tp``, its type arguments, Annotated metadata and dataclass field types, recursively."""
    if id(tp) in seen:
        return
    seen.add(id(tp))
    yield tp
    if t.get_origin(tp) is t.Annotated:
        yield from _walk(tp.__origin__, seen)
        for meta in tp.__metadata__:
            yield ("meta", meta)
        return
    for arg in t.get_args(tp):
        yield from _walk(arg, seen)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp) and not is_pydantic_model(tp):
        try:
            hints = t.get_type_hints(tp, include_extras=True)
        except Exception:  # noqa: BLE001 - unresolvable: the library will say so
            hints = {}
        for hint in hints.values():
            yield from _walk(hint, seen)


def choose(tp: t.Any) -> str:
    """``"pydantic"`` or ``"msgspec"``: the library that validates ``tp``."""
    pydantic_only = msgspec_only = has_dataclass = False
    for node in _walk(tp, set()):
        if type(node) is tuple and len(node) == 2 and node[0] == "meta":
            meta = node[1]
            module = type(meta).__module__.partition(".")[0]
            if module == "msgspec":
                msgspec_only = True
            elif module in ("pydantic", "annotated_types", "pydantic_core"):
                pydantic_only = True
        elif is_pydantic_model(node) or hasattr(node, "__pydantic_validator__"):
            pydantic_only = True
        elif is_struct(node):
            msgspec_only = True
        elif isinstance(node, type) and dataclasses.is_dataclass(node):
            has_dataclass = True
    if pydantic_only and msgspec_only:
        raise TypeError(f"{tp!r} mixes pydantic and msgspec types: one library must validate it")
    if pydantic_only:
        return "pydantic"
    if msgspec_only:
        return "msgspec"
    order = ("msgspec", "pydantic") if has_dataclass else ("pydantic", "msgspec")
    for name in order:
        if installed(name):
            return name
    raise ImportError(
        f"erlen.binding needs pydantic or msgspec to validate {tp!r}:"
        " pip install 'erlen[pydantic]' (or 'erlen[msgspec]')"
    )


@dataclasses.dataclass
class Validator:
    """How one type is validated: from Python values (lax: query strings, forms, decoded
    JSON) or JSON bytes; ``error`` is what they raise, ``errors`` turns it into 422 entries."""

    python: Callable[[t.Any], t.Any]
    json: Callable[[bytes], t.Any]
    error: type[Exception] | tuple[type[Exception], ...]
    errors: Callable[[Exception, Loc], list[Error]]


@dataclasses.dataclass
class Serializer:
    """How a response value is validated and turned into JSON bytes."""

    validate: Callable[[t.Any], t.Any]
    dump: Callable[[t.Any], bytes]
    error: type[Exception] | tuple[type[Exception], ...]
    errors: Callable[[Exception, Loc], list[Error]]


def validator(tp: t.Any) -> Validator:
    if choose(tp) == "pydantic":
        return _pydantic_validator(tp)
    return _msgspec_validator(tp)


def serializer(tp: t.Any) -> Serializer:
    if choose(tp) == "pydantic":
        import pydantic

        adapter = pydantic.TypeAdapter(tp)
        core = getattr(adapter, "validator", None)
        validate = core.validate_python if core is not None else adapter.validate_python
        ser = getattr(adapter, "serializer", None)
        dump = ser.to_json if ser is not None else adapter.dump_json
        return Serializer(validate, dump, pydantic.ValidationError, _pyd_errors)
    import msgspec

    def convert(value: t.Any) -> t.Any:
        return msgspec.convert(value, tp, from_attributes=True)

    return Serializer(convert, msgspec.json.Encoder().encode, msgspec.ValidationError, _ms_errors)


# -- pydantic ------------------------------------------------------------------------------
def _pydantic_validator(tp: t.Any) -> Validator:
    import pydantic

    core = getattr(tp, "__pydantic_validator__", None) if isinstance(tp, type) else None
    if core is None or not hasattr(core, "validate_json"):
        adapter = pydantic.TypeAdapter(tp)
        core = getattr(adapter, "validator", None) or adapter
    return Validator(
        core.validate_python, core.validate_json, pydantic.ValidationError, _pyd_errors
    )


def _jsonable(value: t.Any) -> t.Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def _pyd_errors(exc: Exception, prefix: Loc) -> list[Error]:
    out: list[Error] = []
    for err in exc.errors(include_url=False, include_input=False):  # type: ignore[attr-defined]
        if err["type"] == "json_invalid":
            out.append(_json_invalid(prefix, str(err.get("ctx", {}).get("error", err["msg"]))))
            continue
        entry: Error = {"type": err["type"], "loc": [*prefix, *err["loc"]], "msg": err["msg"]}
        ctx = err.get("ctx")
        if ctx:
            entry["ctx"] = {k: _jsonable(v) for k, v in ctx.items()}
        out.append(entry)
    return out


def _json_invalid(prefix: Loc, error: str) -> Error:
    return {
        "type": "json_invalid",
        "loc": prefix,
        "msg": "JSON decode error",
        "ctx": {"error": error},
    }


# -- msgspec -------------------------------------------------------------------------------
def _msgspec_validator(tp: t.Any) -> Validator:
    import msgspec

    convert = msgspec.convert

    def python(value: t.Any) -> t.Any:
        return convert(value, tp, strict=False)

    return Validator(python, msgspec.json.Decoder(tp).decode, msgspec.DecodeError, _ms_errors)


_MS_AT = re.compile(r" - at `\$(.*)`$")
_MS_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]|\[\.\.\.\]")
_MS_MISSING = re.compile(r"^Object missing required field `(.+)`$")


def _ms_errors(exc: Exception, prefix: Loc) -> list[Error]:
    import msgspec

    message = str(exc)
    if not isinstance(exc, msgspec.ValidationError):
        return [_json_invalid(prefix, message)]
    loc: Loc = list(prefix)
    found = _MS_AT.search(message)
    if found is not None:
        message = message[: found.start()]
        for step in _MS_STEP.finditer(found.group(1)):
            key, index = step.group(1), step.group(2)
            loc.append(key if key is not None else int(index) if index is not None else "...")
    missing = _MS_MISSING.match(message)
    if missing is not None:
        return [{"type": "missing", "loc": [*loc, missing.group(1)], "msg": "Field required"}]
    return [{"type": "value_error", "loc": loc, "msg": message}]


def missing(loc: Loc) -> Error:
    """The error of a required value that is absent (FastAPI's wording)."""
    return {"type": "missing", "loc": loc, "msg": "Field required"}


def strip_none(tp: t.Any) -> tuple[t.Any, bool]:
    """``(X, True)`` for ``Optional[X]`` / ``X | None``, else ``(tp, False)``."""
    if t.get_origin(tp) in (t.Union, types.UnionType):
        args = [a for a in t.get_args(tp) if a is not type(None)]
        if len(args) < len(t.get_args(tp)):
            if len(args) == 1:
                return args[0], True
            return t.Union[tuple(args)], True  # noqa: UP007 - built from a tuple
    return tp, False
