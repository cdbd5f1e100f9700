"""The lazy HTTP request object (Werkzeug-compatible) over a WSGI-shaped environ.

The environ dict is the neutral carrier (a future ASGI adapter builds one), so
this module knows no server. ``__init__`` stores the environ and the method and
nothing else: every other attribute is a ``cached_property`` computed on first
access, so a request that only routes on its path pays only for its path.
"""

from __future__ import annotations

import json as _json
import re
from collections.abc import Collection
from datetime import datetime
from typing import IO, Any
from urllib.parse import quote, unquote

from ..exceptions import BadRequest, SecurityError, UnsupportedMediaType
from ..utils import parse_host
from .datastructures import (
    Accept,
    Authorization,
    CharsetAccept,
    CombinedMultiDict,
    EnvironHeaders,
    ETags,
    ImmutableMultiDict,
    LanguageAccept,
    MIMEAccept,
    MultiDict,
    UserAgent,
)
from .formparser import (
    DEFAULT_MAX_FORM_MEMORY_SIZE,
    DEFAULT_MAX_FORM_PARTS,
    parse_form_data,
)
from .parsing import (
    parse_accept_header,
    parse_cookie_header,
    parse_date,
    parse_etags,
    parse_options_header,
    parse_query_string,
)
from .speedups import cached_property
from .stream import LimitedStream, get_content_length, get_input_stream

__all__ = ["Request", "cached_property"]

# runs of %XX escapes of non-ASCII bytes: shown decoded in the IRI ``url``
_HIGH_ESCAPES = re.compile(r"(?:%[89a-fA-F][0-9a-fA-F])+")
_PATH_SAFE = "!$&'()*+,/:;=@%"
_QUERY_SAFE = "!$&'()*+,/:;=?@%"
_DEFAULT_PORTS = {"http": "80", "ws": "80", "https": "443", "wss": "443"}


def _unquote_high(m: re.Match[str]) -> str:
    try:
        return unquote(m.group(0), errors="strict")
    except UnicodeDecodeError:
        return m.group(0)


def _to_iri(uri: str) -> str:
    """Decode percent-escaped UTF-8 (non-ASCII) so ``url`` reads as an IRI."""
    if "%" not in uri:
        return uri
    return _HIGH_ESCAPES.sub(_unquote_high, uri)


def _host_is_valid(host: str, trusted_hosts: Collection[str] | None) -> bool:
    parsed = parse_host(host)
    if parsed is None:
        return False
    hostname = parsed[0]
    if not trusted_hosts:
        return True
    if isinstance(trusted_hosts, str):
        trusted_hosts = [trusted_hosts]
    for ref in trusted_hosts:
        suffix = ref.startswith(".")
        if suffix:
            ref = ref[1:]
        try:
            ref = ref.partition(":")[0].encode("idna").decode("ascii")
        except UnicodeError:
            return False
        if ref == hostname or (suffix and hostname.endswith("." + ref)):
            return True
    return False


def has_parsed_files(request: Request) -> bool:
    """Whether ``request.close`` would find uploaded files to close (what it looks at: the
    ``files`` it cached, else those of the parsed form data)."""
    found = request.__dict__
    files = found.get("files")
    if files is None:
        parsed = found.get("_form_data")
        files = parsed[1] if parsed is not None else None
    return bool(files)


class Request:
    """An incoming HTTP request, parsed lazily from a WSGI environ.

    Attribute names and semantics follow ``werkzeug.wrappers.Request`` so Flask
    code runs unchanged. Limits are class attributes a subclass (or an instance)
    may override; the core subclass reads them from the app config.
    """

    #: Storage for ``args`` (and the type of ``form``/``files``).
    parameter_storage_class: type[Any] = ImmutableMultiDict
    #: Used by ``get_json``; a subclass may swap in another JSON library.
    json_module: Any = _json
    #: Bodies larger than this are refused with 413 (None: no limit).
    max_content_length: int | None = None
    #: Total bytes of non-file form fields kept in memory (413 beyond).
    max_form_memory_size: int | None = DEFAULT_MAX_FORM_MEMORY_SIZE
    #: Maximum number of multipart parts (413 beyond).
    max_form_parts: int | None = DEFAULT_MAX_FORM_PARTS
    #: Accepted host names (``.example.com`` matches subdomains); None: all.
    trusted_hosts: Collection[str] | None = None

    # set by the app when it matches the request (instance attributes from ``__init__``: on
    # CPython 3.11 a class attribute read through an instance is an unspecialised lookup)
    url_rule: Any
    view_args: dict[str, Any] | None
    routing_exception: Exception | None

    #: True for a request that may not read its body (Werkzeug's ``shallow``).
    shallow: bool = False
    _cached_data: bytes | None = None
    _cached_json: tuple[Any, Any] = (Ellipsis, Ellipsis)
    #: False when a subclass overrides ``close``. While true, ``close`` has work only if files
    #: were parsed (``has_parsed_files``): the request context checks that instead of calling
    #: it on every request.
    default_close: bool = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.default_close = cls.close is Request.close

    def __init__(
        self, environ: dict[str, Any], populate_request: bool = True, shallow: bool = False
    ) -> None:
        # populate_request: Werkzeug's, accepted for compatibility; erlen never links the
        # request into its environ (a reference cycle per request; decision 008)
        self.environ = environ
        if shallow:
            self.shallow = True
        method = environ.get("REQUEST_METHOD", "GET")
        # the server's string as it is when already upper-case (its hash may be cached)
        self.method: str = method if method.isupper() else method.upper()
        self.url_rule = None
        self.view_args = None
        self.routing_exception = None

    def __repr__(self) -> str:
        try:
            url = self.url
        except Exception as e:
            url = f"(invalid URL: {e})"
        return f"<{type(self).__name__} {url!r} [{self.method}]>"

    # -- URL parts -----------------------------------------------------------------
    @cached_property
    def scheme(self) -> str:
        """``http`` or ``https`` (as the server saw it)."""
        return self.environ.get("wsgi.url_scheme", "http")  # type: ignore[no-any-return]

    @property
    def is_secure(self) -> bool:
        """True for https/wss."""
        return self.scheme in ("https", "wss")

    @cached_property
    def host(self) -> str:
        """``host[:port]`` from the Host header (or the server name), without a
        default port. Invalid characters give ``""``; an untrusted host (see
        ``trusted_hosts``) raises ``SecurityError``."""
        env = self.environ
        host = env.get("HTTP_HOST")
        if host is None:
            name = env.get("SERVER_NAME")
            port = env.get("SERVER_PORT")
            if not name or not port:
                return ""
            if ":" in name and name[0] != "[":
                name = f"[{name}]"
            host = f"{name}:{port}"
        default = _DEFAULT_PORTS.get(self.scheme)
        if default is not None and host.endswith(":" + default):
            host = host[: -len(default) - 1]
        trusted = self.trusted_hosts
        if not _host_is_valid(host, trusted):
            if trusted:
                raise SecurityError(f"Host {host!r} is not trusted.")
            return ""
        return host

    @cached_property
    def root_path(self) -> str:
        """Where the app is mounted (``SCRIPT_NAME``), without trailing slash."""
        raw = self.environ.get("SCRIPT_NAME", "")
        if not raw:
            return ""
        return raw.encode("latin-1").decode("utf-8", "replace").rstrip("/")  # type: ignore[no-any-return]

    @property
    def script_root(self) -> str:
        """Alias of ``root_path``."""
        return self.root_path

    @cached_property
    def path(self) -> str:
        """The decoded path below ``root_path``, always starting with ``/``.

        PEP 3333 gives ``PATH_INFO`` as latin-1-decoded bytes; invalid UTF-8 is a
        ``BadRequest`` rather than mojibake.
        """
        raw = self.environ.get("PATH_INFO", "")
        if raw.isascii():
            path = raw
        else:
            try:
                path = raw.encode("latin-1").decode("utf-8")
            except UnicodeError:
                raise BadRequest("Invalid UTF-8 in the request path")
        if path[:1] == "/" and path[1:2] != "/":
            return path  # type: ignore[no-any-return]
        return "/" + path.lstrip("/")

    @cached_property
    def query_string(self) -> bytes:
        """The raw query string as bytes."""
        return self.environ.get("QUERY_STRING", "").encode("latin-1")  # type: ignore[no-any-return]

    @cached_property
    def full_path(self) -> str:
        """``path?query`` (always with the ``?``, as Werkzeug)."""
        return f"{self.path}?{self.query_string.decode('utf-8', 'replace')}"

    @cached_property
    def base_url(self) -> str:
        """The URL without the query string."""
        return _to_iri(
            f"{self.scheme}://{self.host}{quote(self.root_path, safe=_PATH_SAFE)}/"
            f"{quote(self.path.lstrip('/'), safe=_PATH_SAFE)}"
        )

    @cached_property
    def url(self) -> str:
        """The full request URL (an IRI: non-ASCII shown decoded)."""
        qs = self.query_string
        if not qs:
            return self.base_url
        return self.base_url + "?" + _to_iri(quote(qs, safe=_QUERY_SAFE))

    @cached_property
    def url_root(self) -> str:
        """Scheme, host and root path, with a trailing slash."""
        return _to_iri(f"{self.scheme}://{self.host}{quote(self.root_path, safe=_PATH_SAFE)}/")

    @property
    def root_url(self) -> str:
        """Alias of ``url_root``."""
        return self.url_root

    @cached_property
    def host_url(self) -> str:
        """Scheme and host, with a trailing slash."""
        return f"{self.scheme}://{self.host}/"

    # -- query, cookies, headers ---------------------------------------------------
    @cached_property
    def args(self) -> MultiDict:
        """The parsed query string."""
        qs = self.environ.get("QUERY_STRING")
        cls = self.parameter_storage_class
        if not qs:
            return cls()  # type: ignore[no-any-return]
        rv = parse_query_string(qs)
        if cls is not ImmutableMultiDict:
            rv = cls(rv.items(multi=True))
        return rv

    @cached_property
    def cookies(self) -> ImmutableMultiDict:
        """The cookies the client sent."""
        return parse_cookie_header(self.environ.get("HTTP_COOKIE"))

    @cached_property
    def headers(self) -> EnvironHeaders:
        """A read-only, case-insensitive view of the request headers."""
        return EnvironHeaders(self.environ)

    @cached_property
    def _content_type_parsed(self) -> tuple[str, dict[str, str]]:
        ct = self.environ.get("CONTENT_TYPE")
        if not ct:
            return "", {}
        mt, params = parse_options_header(ct)
        return mt.lower(), params

    @property
    def content_type(self) -> str | None:
        """The raw ``Content-Type`` header."""
        return self.environ.get("CONTENT_TYPE")

    @property
    def mimetype(self) -> str:
        """The content type without parameters, lower case (``""`` if none)."""
        return self._content_type_parsed[0]

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type parameters, e.g. ``{"charset": "utf-8"}``."""
        return self._content_type_parsed[1]

    @cached_property
    def content_length(self) -> int | None:
        """The announced body size (None if absent or chunked); invalid → 400."""
        return get_content_length(self.environ)

    @property
    def content_encoding(self) -> str | None:
        return self.environ.get("HTTP_CONTENT_ENCODING")

    @property
    def remote_addr(self) -> str | None:
        """The client (or last proxy) address."""
        return self.environ.get("REMOTE_ADDR")

    @property
    def remote_user(self) -> str | None:
        return self.environ.get("REMOTE_USER")

    @cached_property
    def access_route(self) -> list[str]:
        """``X-Forwarded-For`` addresses (client first), else ``[remote_addr]``."""
        xff = self.environ.get("HTTP_X_FORWARDED_FOR")
        if xff:
            return [x.strip() for x in xff.split(",") if x.strip()]
        addr = self.environ.get("REMOTE_ADDR")
        return [addr] if addr else []

    @property
    def referrer(self) -> str | None:
        return self.environ.get("HTTP_REFERER")

    @property
    def origin(self) -> str | None:
        return self.environ.get("HTTP_ORIGIN")

    @property
    def is_multithread(self) -> bool:
        return bool(self.environ.get("wsgi.multithread"))

    @property
    def is_multiprocess(self) -> bool:
        return bool(self.environ.get("wsgi.multiprocess"))

    @property
    def is_run_once(self) -> bool:
        return bool(self.environ.get("wsgi.run_once"))

    @cached_property
    def user_agent(self) -> UserAgent:
        return UserAgent(self.environ.get("HTTP_USER_AGENT", ""))

    @cached_property
    def authorization(self) -> Authorization | None:
        """The parsed ``Authorization`` header (Basic, Bearer, ...)."""
        return Authorization.from_header(self.environ.get("HTTP_AUTHORIZATION"))

    @cached_property
    def accept_mimetypes(self) -> MIMEAccept:
        return parse_accept_header(self.environ.get("HTTP_ACCEPT"), MIMEAccept)  # type: ignore[no-any-return]

    @cached_property
    def accept_charsets(self) -> CharsetAccept:
        return parse_accept_header(self.environ.get("HTTP_ACCEPT_CHARSET"), CharsetAccept)  # type: ignore[no-any-return]

    @cached_property
    def accept_languages(self) -> LanguageAccept:
        return parse_accept_header(self.environ.get("HTTP_ACCEPT_LANGUAGE"), LanguageAccept)  # type: ignore[no-any-return]

    @cached_property
    def accept_encodings(self) -> Accept:
        return parse_accept_header(self.environ.get("HTTP_ACCEPT_ENCODING"), Accept)  # type: ignore[no-any-return]

    @cached_property
    def if_modified_since(self) -> datetime | None:
        return parse_date(self.environ.get("HTTP_IF_MODIFIED_SINCE"))

    @cached_property
    def if_unmodified_since(self) -> datetime | None:
        return parse_date(self.environ.get("HTTP_IF_UNMODIFIED_SINCE"))

    @cached_property
    def if_none_match(self) -> ETags:
        return parse_etags(self.environ.get("HTTP_IF_NONE_MATCH"))

    @cached_property
    def if_match(self) -> ETags:
        return parse_etags(self.environ.get("HTTP_IF_MATCH"))

    @cached_property
    def date(self) -> datetime | None:
        return parse_date(self.environ.get("HTTP_DATE"))

    # -- body --------------------------------------------------------------------------
    @property
    def input_stream(self) -> IO[bytes]:
        """The raw server input (unbounded: prefer ``stream``)."""
        return self.environ["wsgi.input"]  # type: ignore[no-any-return]

    @cached_property
    def stream(self) -> LimitedStream:
        """The body as a stream that ends at the body's end.

        Raises ``RequestEntityTooLarge`` before reading when ``Content-Length``
        exceeds ``max_content_length``.
        """
        if self.shallow:
            raise RuntimeError(
                "This request was created with 'shallow=True', reading from the input"
                " stream is disabled."
            )
        return get_input_stream(self.environ, self.max_content_length, self.content_length)

    def get_data(
        self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
    ) -> bytes | str:
        """Read the whole body (once; cached unless ``cache=False``).

        With ``parse_form_data=True`` form bodies are parsed first, so for them
        the result is empty (the form consumed the stream), as in Werkzeug.
        """
        rv = self._cached_data
        if rv is None:
            if parse_form_data:
                self._form_data  # noqa: B018 - parse the form first
            rv = self.stream.read()
            if cache:
                self._cached_data = rv
        if as_text:
            return rv.decode("utf-8", "replace")
        return rv

    @property
    def data(self) -> bytes:
        """The raw body (empty for form bodies, which go to ``form``/``files``)."""
        return self.get_data(parse_form_data=True)  # type: ignore[return-value]

    @property
    def want_form_data_parsed(self) -> bool:
        """True when there is a content type, so a form body may be present."""
        return bool(self.environ.get("CONTENT_TYPE"))

    @cached_property
    def _form_data(self) -> tuple[MultiDict, MultiDict]:
        cls = self.parameter_storage_class
        if not self.want_form_data_parsed:
            return cls(), cls()
        mimetype, options = self._content_type_parsed
        if mimetype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
            return cls(), cls()
        data = self._cached_data
        stream: Any = self.stream if data is None else _BytesReader(data)
        parsed = parse_form_data(
            stream,
            mimetype,
            options,
            self.content_length,
            self.max_form_memory_size,
            self.max_form_parts,
        )
        if parsed is None:  # pragma: no cover - mimetypes checked above
            return cls(), cls()
        form, files = parsed
        if cls is not ImmutableMultiDict:
            form = cls(form.items(multi=True))
            files = cls(files.items(multi=True))
        return form, files

    @cached_property
    def form(self) -> MultiDict:
        """Fields of an urlencoded or multipart body."""
        return self._form_data[0]

    @cached_property
    def files(self) -> MultiDict:
        """Uploaded files of a multipart body (``FileStorage`` objects)."""
        return self._form_data[1]

    @cached_property
    def values(self) -> CombinedMultiDict:
        """``args`` combined with ``form`` (only ``args`` for GET, as Werkzeug)."""
        sources: list[Any] = [self.args]
        if self.method != "GET":
            sources.append(self.form)
        return CombinedMultiDict([d if isinstance(d, MultiDict) else MultiDict(d) for d in sources])

    # -- JSON --------------------------------------------------------------------------
    @property
    def is_json(self) -> bool:
        """True for ``application/json`` and ``application/*+json``."""
        mt = self._content_type_parsed[0]
        return mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))

    @property
    def json(self) -> Any:
        """The parsed JSON body (415 if the content type is not JSON)."""
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Parse the body as JSON.

        Not JSON content type: 415 unless ``force`` (parse anyway) or ``silent``
        (return None). Invalid JSON: 400 via ``on_json_loading_failed`` unless
        ``silent``.
        """
        if cache:
            cached = self._cached_json[silent]
            if cached is not Ellipsis:
                return cached
        if not (force or self.is_json):
            if not silent:
                return self.on_json_loading_failed(None)
            return None
        data = self.get_data(cache=cache)
        try:
            rv = self.json_module.loads(data)
        except (ValueError, RecursionError) as exc:
            # nesting deeper than the parser's stack is bad input too: 400, not 500
            e = exc if isinstance(exc, ValueError) else ValueError("JSON nesting is too deep")
            if silent:
                rv = None
                if cache:
                    self._cached_json = (self._cached_json[0], None)
            else:
                rv = self.on_json_loading_failed(e)
                if cache:
                    self._cached_json = (rv, self._cached_json[1])
        else:
            if cache:
                self._cached_json = (rv, rv)
        return rv

    def on_json_loading_failed(self, e: ValueError | None) -> Any:
        """Called when JSON can't be loaded; raise (or return a fallback value)."""
        if e is not None:
            raise BadRequest(f"Failed to decode JSON object: {e}")
        raise UnsupportedMediaType(
            "Did not attempt to load JSON data because the request"
            " Content-Type was not 'application/json'."
        )

    # -- cleanup ---------------------------------------------------------------------------
    def close(self) -> None:
        """Close uploaded files (their temp files go away)."""
        files = self.__dict__.get("files")
        if files is None:
            parsed = self.__dict__.get("_form_data")
            files = parsed[1] if parsed is not None else None  # as has_parsed_files
        if files:
            for _key, f in files.items(multi=True):
                f.close()

    def __enter__(self) -> Request:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _BytesReader:
    """A minimal stream over already-read body bytes (no ``io`` overhead)."""

    __slots__ = ("_data", "_pos")

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def read(self, size: int | None = -1) -> bytes:
        pos = self._pos
        if size is None or size < 0:
            end = len(self._data)
        else:
            end = min(pos + size, len(self._data))
        self._pos = end
        return self._data[pos:end]
