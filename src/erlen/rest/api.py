"""``Api``: Flask-RESTful's entry point on erlen (resources, representations, JSON errors).

``Api(app)`` (or a blueprint, or ``Api()`` then ``init_app``) registers resources as URL
rules and answers every error under its routes as JSON, ``{"message": ...}``, as
Flask-RESTful does: it wraps the app's ``handle_user_exception`` and ``handle_exception``
(Flask's overridable error steps, replaced on the instance), so requests that do not fail
pay nothing for it, and errors outside its routes go to the app's own handlers.
"""

from __future__ import annotations

import logging
import operator
import sys
import typing as t
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import partial, wraps

from ..binding.errors import RequestValidationError
from ..exceptions import (
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    NotAcceptable,
    NotFound,
)
from ..globals import current_app, request
from ..helpers import abort as _abort
from ..helpers import make_response as _make_response
from ..helpers import url_for as _url_for
from ..http.response import Response as BaseResponse
from ..signals import got_request_exception
from .representations import output_json
from .utils import http_status_message, unpack

if t.TYPE_CHECKING:
    from ..app import App
    from ..blueprints import Blueprint, BlueprintSetupState
    from ..wrappers import Response
    from .resource import Resource

__all__ = ["DEFAULT_REPRESENTATIONS", "Api", "abort"]

_log = logging.getLogger("erlen.rest")

#: 4xx answers to malformed input, logged at WARNING (as the core logs them outside an Api).
_BAD_INPUT_CODES = frozenset({400, 405, 411, 413, 414, 415, 422, 431})

DEFAULT_REPRESENTATIONS: list[tuple[str, Callable[..., t.Any]]] = [
    ("application/json", output_json)
]


def abort(http_status_code: int, **kwargs: t.Any) -> t.NoReturn:
    """Raise the HTTP error for ``http_status_code``; keyword arguments become its JSON body
    (``abort(404, message="no such todo")`` answers ``{"message": "no such todo"}``)."""
    try:
        _abort(http_status_code)
    except HTTPException as e:
        if kwargs:
            e.data = kwargs  # type: ignore[attr-defined]
        raise


def _propagate(app: App) -> bool:
    value = app.config.get("PROPAGATE_EXCEPTIONS", False)
    return bool(app.testing or app.debug) if value is None else bool(value)


class Api:
    """The REST API of an app or blueprint.

    ``prefix`` goes before every resource URL, ``default_mediatype`` answers clients that
    accept anything (None: 406 unless they ask for a known one), ``decorators`` wrap every
    resource view, ``catch_all_404s`` answers the app's 404s as JSON too, ``errors`` maps
    exception class names to the JSON body (and ``status``) to answer them with.
    ``url_part_order`` orders blueprint prefix (b), Api prefix (a) and endpoint URL (e).
    """

    def __init__(
        self,
        app: App | Blueprint | None = None,
        prefix: str = "",
        default_mediatype: str | None = "application/json",
        decorators: list[Callable[..., t.Any]] | None = None,
        catch_all_404s: bool = False,
        serve_challenge_on_401: bool = False,
        url_part_order: str = "bae",
        errors: dict[str, dict[str, t.Any]] | None = None,
    ) -> None:
        self.representations: OrderedDict[str, Callable[..., t.Any]] = OrderedDict(
            DEFAULT_REPRESENTATIONS
        )
        self.urls: dict[str, t.Any] = {}
        self.prefix = prefix
        self.default_mediatype = default_mediatype
        self.decorators = decorators if decorators else []
        self.catch_all_404s = catch_all_404s
        self.serve_challenge_on_401 = serve_challenge_on_401
        self.url_part_order = url_part_order
        self.errors = errors or {}
        self.blueprint_setup: BlueprintSetupState | None = None
        self.endpoints: set[str] = set()
        self.resources: list[tuple[type[Resource], tuple[str, ...], dict[str, t.Any]]] = []
        self.app: t.Any = None
        self.blueprint: Blueprint | None = None
        if app is not None:
            self.app = app
            self.init_app(app)

    # -- setup --------------------------------------------------------------------------
    def init_app(self, app: App | Blueprint) -> None:
        """Attach to an app (now) or a blueprint (when it is registered on an app)."""
        try:
            app.record(self._deferred_blueprint_init)  # type: ignore[union-attr]
        except AttributeError:  # not a blueprint
            self._init_app(app)  # type: ignore[arg-type]
            if self.app is None:
                # resources added from now on are served too (Flask-RESTful drops them)
                self.app = app
        else:
            self.blueprint = app  # type: ignore[assignment]

    def _complete_url(self, url_part: str, registration_prefix: str | None) -> str:
        """The rule of ``url_part``: the parts in ``url_part_order``."""
        parts = {"b": registration_prefix, "a": self.prefix, "e": url_part}
        return "".join(parts[key] or "" for key in self.url_part_order)

    def _deferred_blueprint_init(self, setup_state: BlueprintSetupState) -> None:
        if not setup_state.first_registration:
            raise ValueError("erlen.rest blueprints can only be registered once.")
        self.blueprint_setup = setup_state
        self._init_app(setup_state.app)

    def _init_app(self, app: App) -> None:
        app.handle_exception = partial(self.error_router, app.handle_exception)  # type: ignore[method-assign]
        app.handle_user_exception = partial(  # type: ignore[method-assign]
            self.error_router, app.handle_user_exception
        )
        for resource, urls, kwargs in self.resources:
            self._register_view(app, resource, *urls, **kwargs)

    def add_resource(self, resource: type[Resource], *urls: str, **kwargs: t.Any) -> None:
        """Serve ``resource`` at ``urls``. ``endpoint`` (default: the class name, lowered),
        ``resource_class_args``/``resource_class_kwargs`` (for its constructor); other
        keyword arguments go to ``add_url_rule`` (``strict_slashes``, ``defaults``, …)."""
        if self.app is not None:
            self._register_view(self.app, resource, *urls, **kwargs)
        else:
            self.resources.append((resource, urls, kwargs))

    def resource(self, *urls: str, **kwargs: t.Any) -> Callable[[type[Resource]], type[Resource]]:
        """Class decorator: ``@api.resource("/todos/<id>")`` is ``add_resource``."""

        def decorator(cls: type[Resource]) -> type[Resource]:
            self.add_resource(cls, *urls, **kwargs)
            return cls

        return decorator

    def _register_view(
        self, app: t.Any, resource: type[Resource], *urls: str, **kwargs: t.Any
    ) -> None:
        endpoint = kwargs.pop("endpoint", None) or resource.__name__.lower()
        self.endpoints.add(endpoint)
        class_args = kwargs.pop("resource_class_args", ())
        class_kwargs = kwargs.pop("resource_class_kwargs", {})
        previous = getattr(app, "view_functions", {}).get(endpoint)
        if previous is not None:
            previous_class = getattr(previous, "view_class", None)
            if previous_class is not resource:
                name = getattr(previous_class, "__name__", previous_class)
                raise ValueError(f"This endpoint ({endpoint}) is already set to the class {name}.")
        resource.mediatypes = self.mediatypes_method()  # type: ignore[attr-defined]
        resource.endpoint = endpoint
        view = self.output(resource.as_view(endpoint, *class_args, **class_kwargs))
        for decorator in self.decorators:
            view = decorator(view)
        for url in urls:
            if self.blueprint is not None:
                if self.blueprint_setup is not None:
                    self._add_blueprint_rule(self.blueprint_setup, url, endpoint, view, kwargs)
                else:
                    self.blueprint.record(
                        partial(
                            self._add_blueprint_rule,
                            url=url,
                            endpoint=endpoint,
                            view=view,
                            options=dict(kwargs),
                        )
                    )
            else:
                app.add_url_rule(self._complete_url(url, ""), view_func=view, **kwargs)

    def _add_blueprint_rule(
        self,
        setup: BlueprintSetupState,
        url: str,
        endpoint: str,
        view: Callable[..., t.Any],
        options: dict[str, t.Any],
    ) -> None:
        """A rule of a blueprint Api on the app the blueprint is registered on: the URL in
        ``url_part_order``, the endpoint under the blueprint's name, its defaults merged."""
        options = dict(options)
        options.setdefault("subdomain", setup.subdomain)
        defaults = setup.url_defaults
        if "defaults" in options:
            defaults = dict(defaults, **options.pop("defaults"))
        name = f"{setup.name_prefix}.{setup.name}.{endpoint}".lstrip(".")
        setup.app.add_url_rule(
            self._complete_url(url, setup.url_prefix), name, view, defaults=defaults, **options
        )

    def owns_endpoint(self, endpoint: str) -> bool:
        """Whether ``endpoint`` (blueprint name included) is one of this Api's resources."""
        if self.blueprint is not None:
            if not endpoint.startswith(self.blueprint.name):
                return False
            endpoint = endpoint.split(self.blueprint.name + ".", 1)[-1]
        return endpoint in self.endpoints

    def mediatypes_method(self) -> Callable[[t.Any], list[str | None]]:
        return lambda resource_cls: [*self.mediatypes(), self.default_mediatype]

    def mediatypes(self) -> list[str]:
        """The request's ``Accept`` mediatypes, best first."""
        return [
            h for h, _ in sorted(request.accept_mimetypes, key=operator.itemgetter(1), reverse=True)
        ]

    def representation(
        self, mediatype: str
    ) -> Callable[[Callable[..., t.Any]], Callable[..., t.Any]]:
        """Decorator: ``fn(data, code, headers) -> Response`` answers clients that ask for
        ``mediatype``."""

        def wrapper(func: Callable[..., t.Any]) -> Callable[..., t.Any]:
            self.representations[mediatype] = func
            return func

        return wrapper

    # -- responses ----------------------------------------------------------------------
    def output(self, resource: Callable[..., t.Any]) -> Callable[..., t.Any]:
        """Wrap a resource view: what it returns (unless a response) goes through
        :meth:`make_response`."""

        @wraps(resource)
        def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            resp = resource(*args, **kwargs)
            if isinstance(resp, BaseResponse):
                return resp
            data, code, headers = unpack(resp)
            return self.make_response(data, code, headers=headers)

        return wrapper

    def make_response(self, data: t.Any, *args: t.Any, **kwargs: t.Any) -> Response:
        """``data`` in the representation the client prefers (``default_mediatype`` when it
        has no ``Accept``); 406 when none fits and there is no default."""
        default = kwargs.pop("fallback_mediatype", None) or self.default_mediatype
        representations = self.representations
        accept = request.environ.get("HTTP_ACCEPT")
        if not accept:
            mediatype = default
        elif accept == "*/*":
            # what best_match gives for */*: the first representation
            mediatype = next(iter(representations), default)
        else:
            mediatype = request.accept_mimetypes.best_match(representations, default=default)
        if mediatype is None:
            raise NotAcceptable()
        rep = representations.get(mediatype)
        if rep is not None:
            resp = rep(data, *args, **kwargs)
            if rep is not output_json or mediatype != "application/json":
                resp.headers["Content-Type"] = mediatype  # output_json's own type otherwise
            return resp  # type: ignore[no-any-return]
        if mediatype == "text/plain":
            code = args[0] if args else kwargs.get("code", 200)
            headers = args[1] if len(args) > 1 else kwargs.get("headers")
            resp = _make_response(str(data), code, headers or {})
            resp.headers["Content-Type"] = "text/plain"
            return resp
        raise InternalServerError()

    def url_for(self, resource: type[Resource], **values: t.Any) -> str:
        """The URL of ``resource`` (as ``url_for`` with its endpoint)."""
        endpoint = resource.endpoint
        if self.blueprint is not None:
            endpoint = f"{self.blueprint.name}.{endpoint}"
        return _url_for(endpoint, **values)

    def unauthorized(self, response: t.Any) -> t.Any:
        """With ``serve_challenge_on_401``, add a Basic ``WWW-Authenticate`` challenge (realm
        ``HTTP_BASIC_AUTH_REALM``)."""
        if self.serve_challenge_on_401:
            realm = current_app.config.get("HTTP_BASIC_AUTH_REALM", "flask-restful")
            response.headers["WWW-Authenticate"] = f'Basic realm="{realm}"'
        return response

    # -- errors -------------------------------------------------------------------------
    def _should_use_fr_error_handler(self) -> bool | None:
        """For a 404/405 (no rule matched): whether this Api answers it."""
        adapter = current_app.create_url_adapter(request)
        if adapter is None:
            return None
        try:
            adapter.match()
        except MethodNotAllowed as e:
            # the rule the other methods of this URL would hit
            methods = list(e.valid_methods or ["GET"])
            rule, _ = adapter.match(method=methods[0], return_rule=True)
            return self.owns_endpoint(rule.endpoint)
        except NotFound:
            return self.catch_all_404s
        except Exception:
            pass  # a redirect: not this Api's
        return None

    def _has_fr_route(self) -> bool:
        """Whether the failed request belongs to this Api."""
        if self._should_use_fr_error_handler():
            return True
        rule = request.url_rule
        if not rule:
            return False
        return self.owns_endpoint(rule.endpoint)

    def error_router(self, original_handler: Callable[[Exception], t.Any], e: Exception) -> t.Any:
        """An error of this Api's routes goes to :meth:`handle_error`, any other (or one
        ``handle_error`` cannot answer) to the app's own handling."""
        if self._has_fr_route():
            try:
                return self.handle_error(e)
            except Exception:
                pass  # the app's own handling decides
        return original_handler(e)

    def handle_error(self, e: Exception) -> Response:
        """The JSON answer to ``e``: an HTTP error's code and description (or the data given
        to :func:`abort`), else a logged 500 ``{"message": "Internal Server Error"}``."""
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        got_request_exception.send(app, exception=e)
        if not isinstance(e, HTTPException) and _propagate(app):
            exc_value = sys.exc_info()[1]
            if exc_value is e:
                raise  # noqa: PLE0704 - re-raise the exception being handled
            raise e
        headers: t.Any = ()
        if isinstance(e, HTTPException):
            if e.response is not None:
                return e.get_response()  # type: ignore[return-value]
            code = e.code
            default_data: t.Any = {"message": e.description or http_status_message(code or 0)}
            headers = [
                (k, v)
                for k, v in e.get_headers()
                if k.lower() not in ("content-length", "content-type")
            ]
            data = getattr(e, "data", default_data)
            if isinstance(e, RequestValidationError):  # typed binding's 422: its own body
                data = {"detail": e.errors}
        else:
            code = 500
            default_data = {"message": http_status_message(500)}
            # a non-HTTP exception's own ``data`` is its answer only when it is a dict: an
            # exception from a library, carrying anything, is not sent to the client
            data = getattr(e, "data", default_data)
            if not isinstance(data, Mapping):
                data = default_data
        if code and code >= 500:
            exc_info = sys.exc_info()
            app.log_exception(exc_info if exc_info[1] is not None else (None, None, None))
        elif code in _BAD_INPUT_CODES:
            _log.warning(
                "%d %s %r: %s",
                code,
                _printable(request.method),
                request.path,
                _printable(str(_message(data))),
            )
        custom = self.errors.get(type(e).__name__)
        if custom is not None:
            code = custom.get("status", 500)
            data = {**data, **custom} if isinstance(data, Mapping) else dict(custom)
        if code == 406 and self.default_mediatype is None:
            # answer the 406 in a representation we have, not with another 406
            fallback = next(iter(self.representations), "text/plain")
            resp = self.make_response(data, code, headers, fallback_mediatype=fallback)
        else:
            resp = self.make_response(data, code, headers)
        if code == 401:
            resp = self.unauthorized(resp)
        return resp


def _printable(text: str) -> str:
    """``text`` as it is when printable, else its ``repr`` (no forged log lines)."""
    return text if text.isprintable() else repr(text)


def _message(data: t.Any) -> t.Any:
    return data.get("message", data) if isinstance(data, Mapping) else data
