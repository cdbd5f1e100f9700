"""The per-request side of binding: the wrapper registered for a typed view, which reads the
request, validates, calls the view with the values and serializes a model response.

Everything that can be decided once (sources, names, validators, copies of mutable
defaults) is decided when the view is registered; a request runs one small loop.
"""

from __future__ import annotations

import copy
import functools
import inspect
import typing as t
import weakref
from collections.abc import Callable, Collection
from types import CoroutineType

from ..exceptions import InternalServerError, UnsupportedMediaType
from ..globals import _cv_request, _get_current_app
from ..http.response import Response as _BaseResponse
from ..logging import log_safe
from .analysis import Bound, Plan, _core, _many, analyse
from .errors import RequestValidationError
from .libs import Error, Loc, is_pydantic_model, is_struct, missing, serializer, validator

_JSON_HEADERS = {"Content-Type": "application/json"}
_FORM_TYPES = frozenset(("application/x-www-form-urlencoded", "multipart/form-data"))
_MUTABLE = (list, dict, set)
_PASS_THROUGH = (_BaseResponse, str, bytes)

#: One parameter's step: name, error location, getter, required, default, copy the
#: default, validate (None: taken as it is), the library's error, its error mapper.
_Step = tuple[
    str,
    Loc,
    Callable[[t.Any], t.Any],
    bool,
    t.Any,
    bool,
    t.Any,
    t.Any,
    t.Any,
]


class _State:
    """A wrapper's current plan (URL variables of later registrations can change it)."""

    __slots__ = ("bind", "func", "path_names", "plan")

    def __init__(self, func: t.Any, plan: Plan, path_names: set[str]) -> None:
        self.func = func
        self.path_names = path_names
        self.plan = plan
        self.bind = make_binder(plan)


def _getter(b: Bound) -> Callable[[t.Any], t.Any]:
    alias = b.alias
    if b.location == "query":
        if b.many:
            return lambda req: req.args.getlist(alias) or None
        return lambda req: req.args.get(alias)
    if b.location == "header":
        key = "HTTP_" + alias.upper().replace("-", "_")
        if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
            key = key[5:]
        if b.many:

            def many_header(req: t.Any) -> list[str] | None:
                raw = req.environ.get(key)
                return None if raw is None else [v.strip() for v in raw.split(",")]

            return many_header
        return lambda req: req.environ.get(key)
    if b.location == "cookie":
        return lambda req: req.cookies.get(alias)
    raise AssertionError(b.location)  # pragma: no cover - body parameters have no getter


def _step(b: Bound, loc: Loc, getter: Callable[[t.Any], t.Any]) -> _Step:
    if b.plain_str:
        check = exc = errs = None
    else:
        v = validator(b.annotation)
        check, exc, errs = v.python, v.error, v.errors
    copy_default = isinstance(b.default, _MUTABLE)
    return (b.name, loc, getter, b.required, b.default, copy_default, check, exc, errs)


def _run_steps(
    steps: list[_Step], req: t.Any, kwargs: dict[str, t.Any], errors: list[Error]
) -> None:
    for name, loc, get, required, default, copy_default, check, exc, errs in steps:
        raw = get(req)
        if raw is None:
            if required:
                errors.append(missing(loc))
            else:
                kwargs[name] = copy.copy(default) if copy_default else default
        elif check is None:
            kwargs[name] = raw
        else:
            try:
                kwargs[name] = check(raw)
            except exc as e:
                errors.extend(errs(e, loc))


def _model_list_fields(tp: t.Any) -> frozenset[str]:
    """The fields of a model that take every value of a repeated form key."""
    tp = _core(tp)
    hints: dict[str, t.Any] = {}
    if is_pydantic_model(tp):
        hints = {(f.alias or n): f.annotation for n, f in tp.model_fields.items()}
    elif is_struct(tp):
        import msgspec

        hints = {f.encode_name: f.type for f in msgspec.structs.fields(tp)}
    else:
        try:
            hints = t.get_type_hints(tp, include_extras=True)
        except Exception:  # noqa: BLE001 - the validator reports what is wrong
            hints = {}
    return frozenset(name for name, hint in hints.items() if _many(hint)[0])


def _form_dict(form: t.Any, many: Collection[str]) -> dict[str, t.Any]:
    return {k: (form.getlist(k) if k in many else form[k]) for k in form}


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def _key_getter(key: str) -> Callable[[t.Any], t.Any]:
    return lambda data: data.get(key)


def _body_reader(plan: Plan) -> Callable[[t.Any, dict[str, t.Any], list[Error]], None] | None:
    """What reads the body into the view's keyword arguments (None: the view takes none)."""
    if not plan.body:
        return None
    form_only = plan.form_only
    if plan.embed:
        steps = [_step(b, ["body", b.alias], _key_getter(b.alias)) for b in plan.body]
        many = frozenset(b.alias for b in plan.body if b.many)
        import json

        def read_embedded(req: t.Any, kwargs: dict[str, t.Any], errors: list[Error]) -> None:
            mimetype = _mimetype(req)
            if mimetype in _FORM_TYPES:
                data: t.Any = _form_dict(req.form, many)
            elif form_only:
                raise _wrong_type(form=True)
            elif not mimetype or _is_json(mimetype):
                raw = req.get_data()
                if not raw:
                    data = {}
                else:
                    try:
                        data = json.loads(raw)
                    except (ValueError, RecursionError) as e:
                        errors.append(_invalid_json(str(e)))
                        return
                    if not isinstance(data, dict):
                        errors.append(
                            {
                                "type": "dict_type",
                                "loc": ["body"],
                                "msg": "Input should be an object",
                            }
                        )
                        return
            else:
                raise _wrong_type(form=False)
            _run_steps(steps, data, kwargs, errors)

        return read_embedded

    b = plan.body[0]
    v = validator(b.annotation)
    from_python, from_json, exc, errs = v.python, v.json, v.error, v.errors
    name, required, default = b.name, b.required, b.default
    list_fields = _model_list_fields(b.annotation)

    def read_body(req: t.Any, kwargs: dict[str, t.Any], errors: list[Error]) -> None:
        mimetype = _mimetype(req)
        if mimetype in _FORM_TYPES:
            try:
                kwargs[name] = from_python(_form_dict(req.form, list_fields))
            except exc as e:
                errors.extend(errs(e, ["body"]))
            return
        if form_only:
            raise _wrong_type(form=True)
        if mimetype and not _is_json(mimetype):
            raise _wrong_type(form=False)
        raw = req.get_data()
        if not raw:
            if required:
                errors.append(missing(["body"]))
            else:
                kwargs[name] = default
            return
        try:
            kwargs[name] = from_json(raw)
        except exc as e:
            errors.extend(errs(e, ["body"]))

    return read_body


def _mimetype(req: t.Any) -> str:
    ct = req.environ.get("CONTENT_TYPE")
    if not ct:
        return ""
    return ct.partition(";")[0].strip().lower()  # type: ignore[no-any-return]


def _invalid_json(error: str) -> Error:
    return {
        "type": "json_invalid",
        "loc": ["body"],
        "msg": "JSON decode error",
        "ctx": {"error": error},
    }


def _wrong_type(form: bool) -> UnsupportedMediaType:
    want = (
        "a form (application/x-www-form-urlencoded or multipart/form-data)"
        if form
        else ("JSON (application/json) or a form")
    )
    return UnsupportedMediaType(f"The request body must be {want}.")


def make_binder(plan: Plan) -> Callable[[dict[str, t.Any]], dict[str, t.Any]]:
    """The function that adds the bound values to a view's keyword arguments (or raises the
    422 listing every invalid or missing one)."""
    steps = [_step(b, [b.location, b.alias], _getter(b)) for b in plan.params]
    read_body = _body_reader(plan)
    get_ctx = _cv_request.get

    def bind(kwargs: dict[str, t.Any]) -> dict[str, t.Any]:
        req = get_ctx().request
        errors: list[Error] = []
        if steps:
            _run_steps(steps, req, kwargs, errors)
        if read_body is not None:
            read_body(req, kwargs, errors)
        if errors:
            _fail(req, errors)
        return kwargs

    return bind


def _fail(req: t.Any, errors: list[Error]) -> t.NoReturn:
    # the 422's description is what the app's one bad-input log line says (erlen.app.errors)
    where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in errors)
    raise RequestValidationError(errors, log_safe(f"Invalid request input ({where})."))


def _responder(func: t.Any, tp: t.Any) -> Callable[[t.Any], t.Any]:
    """What turns the view's return value into a JSON answer, validated as ``tp``."""
    s = serializer(tp)
    validate, dump, exc, errs = s.validate, s.dump, s.error, s.errors
    view_name = getattr(func, "__qualname__", repr(func))

    def respond(rv: t.Any) -> t.Any:
        rest: tuple[t.Any, ...] | None = None
        if type(rv) is tuple:
            rv, rest = rv[0], rv[1:]
        if isinstance(rv, _PASS_THROUGH):
            # Flask's own answers (a Response, a redirect, a decorator's "login first" text)
            return rv if rest is None else (rv, *rest)
        try:
            data = dump(validate(rv))
        except exc as e:
            app = _get_current_app(None)
            if app is not None:
                # where and why, not the values (a response may hold what must not be logged)
                why = "; ".join(
                    f"{'.'.join(map(str, err['loc'])) or '(root)'}: {err['msg']}"
                    for err in errs(e, [])
                )
                app.logger.error(
                    "Response of view %s is not a valid %s: %s",
                    view_name,
                    getattr(tp, "__name__", tp),
                    log_safe(why),
                )
            raise InternalServerError() from None
        if rest is None:
            return (data.decode(), 200, _JSON_HEADERS)
        app = _get_current_app()
        return (app.response_class(data, mimetype="application/json"), *rest)

    return respond


def _wrap(func: t.Any, state: _State, method: bool) -> t.Any:
    respond = _responder(func, state.plan.response) if state.plan.response is not None else None
    is_async = inspect.iscoroutinefunction(func)

    if is_async:
        if method:

            async def view(self: t.Any, /, **kwargs: t.Any) -> t.Any:
                rv = await func(self, **state.bind(kwargs))
                return rv if respond is None else respond(rv)

        else:

            async def view(**kwargs: t.Any) -> t.Any:  # type: ignore[misc]
                rv = await func(**state.bind(kwargs))
                return rv if respond is None else respond(rv)

    elif respond is None:
        if method:

            def view(self: t.Any, /, **kwargs: t.Any) -> t.Any:  # type: ignore[misc]
                return func(self, **state.bind(kwargs))

        else:

            def view(**kwargs: t.Any) -> t.Any:  # type: ignore[misc]
                return func(**state.bind(kwargs))

    else:

        async def finish(coro: t.Any) -> t.Any:  # a sync decorator around an async view
            return respond(await coro)

        def answer(rv: t.Any) -> t.Any:
            return finish(rv) if type(rv) is CoroutineType else respond(rv)

        if method:

            def view(self: t.Any, /, **kwargs: t.Any) -> t.Any:  # type: ignore[misc]
                return answer(func(self, **state.bind(kwargs)))

        else:

            def view(**kwargs: t.Any) -> t.Any:  # type: ignore[misc]
                return answer(func(**state.bind(kwargs)))

    functools.update_wrapper(view, func)
    view.__dict__.pop("__erlen_bound__", None)
    view.__erlen_binder_of__ = func  # type: ignore[attr-defined]
    view.__erlen_state__ = state  # type: ignore[attr-defined]
    view.__erlen_view_spec__ = state.plan.spec  # type: ignore[attr-defined]
    return view


def _update(wrapper: t.Any, path_names: Collection[str]) -> None:
    """Another registration of ``wrapper``: its rule's URL variables are path parameters."""
    state: _State | None = getattr(wrapper, "__erlen_state__", None)
    if state is None or set(path_names) <= state.path_names:
        return
    state.path_names |= set(path_names)
    plan = analyse(state.func, state.path_names)
    if plan is None:  # every bound parameter turned out to be a URL variable
        plan = Plan(state.plan.spec, [], [], False, False, state.plan.response, False)
        plan.spec.params = [p for p in plan.spec.params if p.location == "path"]
    state.plan = plan
    state.bind = make_binder(plan)
    wrapper.__erlen_view_spec__ = plan.spec


#: The URL variables of every rule each function was registered on (whether it got a
#: wrapper or not): a later registration, or describe_view, must not bind them.
_PATH_NAMES: weakref.WeakKeyDictionary[t.Any, set[str]] = weakref.WeakKeyDictionary()


def path_names_of(func: t.Any) -> set[str]:
    """The URL variables ``func`` was registered with so far."""
    try:
        return _PATH_NAMES.get(func, set())
    except TypeError:  # pragma: no cover - not weak-referenceable
        return set()


def _bound(func: t.Any, path_names: Collection[str], method: bool) -> t.Any:
    if getattr(func, "__erlen_binder_of__", None) is not None:  # already a binding wrapper
        _update(func, path_names)
        return func
    names = path_names_of(func) | set(path_names)
    try:
        _PATH_NAMES[func] = names
    except TypeError:  # pragma: no cover - not weak-referenceable
        pass
    cached = getattr(func, "__dict__", {}).get("__erlen_bound__")
    if cached is not None and getattr(cached, "__erlen_binder_of__", None) is func:
        _update(cached, names)
        return cached
    plan = analyse(func, names)
    if plan is None:
        return func
    wrapper = _wrap(func, _State(func, plan, set(names)), method)
    try:
        func.__erlen_bound__ = wrapper
    except (AttributeError, TypeError):  # pragma: no cover - a callable without a __dict__
        pass
    return wrapper


def bind_function(func: t.Any, path_names: Collection[str] = ()) -> t.Any:
    """The binding wrapper of a view function (the same one on each registration), or the
    function itself when it binds nothing."""
    return _bound(func, path_names, method=False)


def bind_class_view(view_class: type, path_names: Collection[str] = ()) -> None:
    """Wrap the verb methods of a MethodView (``dispatch_request`` of a View) that bind."""
    from ..views import MethodView, http_method_funcs

    names = (
        sorted(http_method_funcs) if issubclass(view_class, MethodView) else ["dispatch_request"]
    )
    for name in names:
        raw = inspect.getattr_static(view_class, name, None)
        if not inspect.isfunction(raw) or raw is getattr(MethodView, name, None):
            continue
        wrapped = _bound(raw, path_names, method=True)
        if wrapped is not raw:
            setattr(view_class, name, wrapped)
