"""JSON schemas of bound types, for OpenAPI: the library that validates a type describes it."""

from __future__ import annotations

import typing as t

from .analysis import _split_annotated
from .libs import choose, installed

Schema = dict[str, t.Any]


def _strip_markers(tp: t.Any) -> t.Any:
    """``tp`` with erlen's markers removed from Annotated (recursively through arguments)."""
    if t.get_origin(tp) is t.Annotated:
        base, _ = _split_annotated(tp)
        if t.get_origin(base) is t.Annotated:
            return t.Annotated[(_strip_markers(base.__origin__), *base.__metadata__)]  # type: ignore[valid-type]
        return _strip_markers(base)
    return tp


def json_schema(tp: t.Any, ref_template: str) -> tuple[Schema, dict[str, Schema]]:
    """The schema of ``tp`` (a ``$ref`` for a named model) and the component schemas."""
    tp = _strip_markers(tp)
    library = choose(tp)
    if library == "msgspec" or not installed("pydantic"):
        import msgspec

        # msgspec's template names the model {name}; pydantic's (and OpenAPI tools') {model}
        template = ref_template.replace("{model}", "{name}")
        (one,), parts = msgspec.json.schema_components([tp], ref_template=template)
        return one, parts
    import pydantic

    adapter = pydantic.TypeAdapter(tp)
    schemas, defs = pydantic.TypeAdapter.json_schemas(
        [("tp", "validation", adapter)], ref_template=ref_template
    )
    schema = dict(schemas[("tp", "validation")])
    components: dict[str, Schema] = dict(defs.get("$defs", {}))
    return schema, components
