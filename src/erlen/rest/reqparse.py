"""``RequestParser``: Flask-RESTful's request argument parser (deprecated upstream, kept
for the apps that use it).

Each argument is read from request locations (default: the JSON body, then form and query
string), converted by ``type`` and checked against ``choices``; a missing required or bad
value is a 400 ``{"message": {name: help}}``. One difference from Flask-RESTful 0.3.10 on
Flask 3: the ``json`` location is skipped when the request is not JSON, instead of
answering 415 (which made the default locations fail for every query-string request).
"""

from __future__ import annotations

import decimal
import sys
import typing as t
from collections.abc import Iterable, MutableSequence
from copy import deepcopy

from ..exceptions import BadRequest
from ..globals import current_app, request
from ..http.filestorage import FileStorage
from ..http.multidict import MultiDict

__all__ = ["Argument", "Namespace", "RequestParser"]


def _abort(code: int, **data: t.Any) -> None:
    # looked up on the package at call time, as Flask-RESTful calls ``flask_restful.abort``
    # (tests that patch ``erlen.rest.abort`` see the parser's errors)
    sys.modules[__package__].abort(code, **data)


class Namespace(dict):  # type: ignore[type-arg]
    """The parsed arguments: a dict whose keys are also attributes (``args.name``)."""

    def __getattr__(self, name: str) -> t.Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: t.Any) -> None:
        self[name] = value


_friendly_location = {
    "json": "the JSON body",
    "form": "the post body",
    "args": "the query string",
    "values": "the post body or the query string",
    "headers": "the HTTP headers",
    "cookies": "the request's cookies",
    "files": "an uploaded file",
}


def _location_value(req: t.Any, location: str) -> t.Any:
    if location == "json" and getattr(req, "is_json", None) is False:
        return None  # a request that is not JSON has no JSON arguments (not a 415)
    value = getattr(req, location, None)
    return value() if callable(value) else value


class Argument:
    """One argument: where to read it (``location``), how to convert it (``type``, called
    as ``type(value)``, ``type(value, name)`` or ``type(value, name, op)``), ``required``,
    ``default``, ``choices``, ``action`` (``store``/``append``), ``help`` (may hold
    ``{error_msg}``), ``dest``, ``ignore``, ``case_sensitive``, ``trim``, ``nullable``,
    ``store_missing``, ``operators``."""

    def __init__(
        self,
        name: str,
        default: t.Any = None,
        dest: str | None = None,
        required: bool = False,
        ignore: bool = False,
        type: t.Any = str,  # noqa: A002 - Flask-RESTful's keyword
        location: str | Iterable[str] = ("json", "values"),
        choices: t.Any = (),
        action: str = "store",
        help: str | None = None,  # noqa: A002 - Flask-RESTful's keyword
        operators: Iterable[str] = ("=",),
        case_sensitive: bool = True,
        store_missing: bool = True,
        trim: bool = False,
        nullable: bool = True,
    ) -> None:
        self.name = name
        self.default = default
        self.dest = dest
        self.required = required
        self.ignore = ignore
        self.location = location
        self.type = type
        self.choices = choices
        self.action = action
        self.help = help
        self.case_sensitive = case_sensitive
        self.operators = operators
        self.store_missing = store_missing
        self.trim = trim
        self.nullable = nullable

    def __str__(self) -> str:
        choices = list(self.choices)
        if len(choices) > 5:
            choices = [*choices[:3], "...", choices[-1]]
        return f"Name: {self.name}, type: {self.type}, choices: {choices}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}('{self.name}', default={self.default}, dest={self.dest}, "
            f"required={self.required}, ignore={self.ignore}, location={self.location}, "
            f"type=\"{self.type}\", choices={self.choices}, action='{self.action}', "
            f"help={self.help}, case_sensitive={self.case_sensitive}, "
            f"operators={self.operators}, store_missing={self.store_missing}, "
            f"trim={self.trim}, nullable={self.nullable})"
        )

    def source(self, req: t.Any) -> t.Any:
        """The values of the argument's locations (the last one wins)."""
        if isinstance(self.location, str):
            value = _location_value(req, self.location)
            return value if value is not None else MultiDict()
        values = MultiDict()
        for location in self.location:
            value = _location_value(req, location)
            if value is not None:
                values.update(value)
        return values

    def convert(self, value: t.Any, op: str) -> t.Any:
        if value is None:
            if self.nullable:
                return None
            raise ValueError("Must not be null!")
        if isinstance(value, FileStorage) and self.type is FileStorage:
            return value
        if getattr(self.type, "__name__", None) == "FileStorage" == type(value).__name__:
            return value  # an upload, asked for with another library's FileStorage class
        try:
            return self.type(value, self.name, op)
        except TypeError:
            try:
                if self.type is decimal.Decimal:
                    return self.type(str(value))
                return self.type(value, self.name)
            except TypeError:
                return self.type(value)

    def handle_validation_error(self, error: Exception, bundle_errors: bool) -> t.Any:
        """400 with ``{"message": {name: help or error}}``; when bundling, the pair
        ``(error, {name: message})`` instead."""
        error_str = str(error)
        error_msg = self.help.format(error_msg=error_str) if self.help else error_str
        msg = {self.name: error_msg}
        if bundle_errors or current_app.config.get("BUNDLE_ERRORS", False):
            return error, msg
        _abort(400, message=msg)

    def parse(self, req: t.Any, bundle_errors: bool = False) -> tuple[t.Any, t.Any]:
        """``(value, found)`` of this argument in ``req`` (or an error pair when bundling)."""
        source = self.source(req)

        def bundling() -> bool:
            return bundle_errors or bool(current_app.config.get("BUNDLE_ERRORS", False))

        results = []
        for operator in self.operators:
            name = self.name + operator.replace("=", "", 1)
            if name not in source:
                continue
            if hasattr(source, "getlist"):
                values = source.getlist(name)
            else:
                values = source.get(name)
                if not (isinstance(values, MutableSequence) and self.action == "append"):
                    values = [values]
            for value in values:
                if hasattr(value, "strip") and self.trim:
                    value = value.strip()
                if hasattr(value, "lower") and not self.case_sensitive:
                    value = value.lower()
                    if hasattr(self.choices, "__iter__"):
                        self.choices = [choice.lower() for choice in self.choices]
                try:
                    value = self.convert(value, operator)
                except Exception as error:
                    if self.ignore:
                        continue
                    return self.handle_validation_error(error, bundle_errors)  # type: ignore[no-any-return]
                if self.choices and value not in self.choices:
                    failed = self.handle_validation_error(
                        ValueError(f"{value} is not a valid choice"), bundle_errors
                    )
                    if bundling():
                        return failed  # type: ignore[no-any-return]
                unparsed = getattr(req, "unparsed_arguments", None)
                if unparsed and name in unparsed:
                    unparsed.pop(name)
                results.append(value)
        if not results and self.required:
            locations = [self.location] if isinstance(self.location, str) else self.location
            error_msg = "Missing required parameter in " + " or ".join(
                _friendly_location.get(loc, loc) for loc in locations
            )
            failed = self.handle_validation_error(ValueError(error_msg), bundle_errors)
            if bundling():
                return failed  # type: ignore[no-any-return]
        if not results:
            return (self.default() if callable(self.default) else self.default), False
        if self.action == "append":
            return results, True
        if self.action == "store" or len(results) == 1:
            return results[0], True
        return results, True


class RequestParser:
    """Arguments to parse from the request: ``add_argument(...)``, then ``parse_args()``.

    ``bundle_errors`` (or the ``BUNDLE_ERRORS`` config) reports every bad argument in one
    400 instead of the first; ``trim`` strips whitespace from every argument.
    """

    def __init__(
        self,
        argument_class: type[Argument] = Argument,
        namespace_class: type[dict] = Namespace,  # type: ignore[type-arg]
        trim: bool = False,
        bundle_errors: bool = False,
    ) -> None:
        self.args: list[Argument] = []
        self.argument_class = argument_class
        self.namespace_class = namespace_class
        self.trim = trim
        self.bundle_errors = bundle_errors

    def add_argument(self, *args: t.Any, **kwargs: t.Any) -> RequestParser:
        """Add an ``Argument`` (or the arguments of its constructor)."""
        if len(args) == 1 and isinstance(args[0], self.argument_class):
            self.args.append(args[0])
        else:
            self.args.append(self.argument_class(*args, **kwargs))
        if self.trim and self.argument_class is Argument:
            self.args[-1].trim = kwargs.get("trim", self.trim)
        return self

    def parse_args(
        self, req: t.Any = None, strict: bool = False, http_error_code: int = 400
    ) -> t.Any:
        """The arguments of ``req`` (default: the current request) as a ``Namespace``;
        ``strict`` refuses arguments the parser does not know (400)."""
        if req is None:
            req = request._get_current_object()  # type: ignore[attr-defined]
        namespace = self.namespace_class()
        unparsed = dict(self.argument_class("").source(req)) if strict else {}
        try:
            req.unparsed_arguments = unparsed
        except AttributeError:
            pass
        errors: dict[str, t.Any] = {}
        for arg in self.args:
            value, found = arg.parse(req, self.bundle_errors)
            if isinstance(value, ValueError):
                errors.update(found)
                found = None
            if found or arg.store_missing:
                namespace[arg.dest or arg.name] = value
        if errors:
            _abort(http_error_code, message=errors)
        if strict and unparsed:
            raise BadRequest("Unknown arguments: " + ", ".join(unparsed.keys()))
        return namespace

    def copy(self) -> RequestParser:
        """A parser with copies of this one's arguments."""
        parser_copy = type(self)(self.argument_class, self.namespace_class)
        parser_copy.args = deepcopy(self.args)
        parser_copy.trim = self.trim
        parser_copy.bundle_errors = self.bundle_errors
        return parser_copy

    def replace_argument(self, name: str, *args: t.Any, **kwargs: t.Any) -> RequestParser:
        """Replace the argument called ``name`` (it moves to the end)."""
        new_arg = self.argument_class(name, *args, **kwargs)
        for index, arg in enumerate(self.args):
            if arg.name == new_arg.name:
                del self.args[index]
                self.args.append(new_arg)
                break
        return self

    def remove_argument(self, name: str) -> RequestParser:
        """Remove the argument called ``name``."""
        for index, arg in enumerate(self.args):
            if arg.name == name:
                del self.args[index]
                break
        return self
