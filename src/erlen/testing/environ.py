"""Build WSGI environs for tests, as a real server would hand them to the app.

``EnvironBuilder`` follows Werkzeug's (and, given an app, Flask's) builder: the
same arguments, the same environ keys, the same encodings (``PATH_INFO`` is the
percent-decoded path as a latin-1 str of its UTF-8 bytes, PEP 3333's "bytes in a
str"). Form bodies are encoded here (urlencoded or multipart); parsing them is
the request side's job, so the two halves test each other.
"""

from __future__ import annotations

import json as _stdlib_json
import mimetypes
import os
import secrets
import sys
from base64 import b64encode
from collections.abc import Iterable, Iterator, Mapping
from io import BytesIO
from typing import IO, Any
from urllib.parse import quote, quote_plus, unquote, unquote_to_bytes, urlsplit

from ..http.filestorage import FileStorage
from ..http.headers import Headers
from ..http.multidict import FileMultiDict, MultiDict

__all__ = ["EnvironBuilder", "encode_multipart", "stream_encode_multipart"]

#: Characters kept as-is when a path given as an IRI is turned into a URI.
_PATH_SAFE = "/:@!$&'()*+,;=%~"
#: The same without ``%``: for decoded paths, where a ``%`` is a literal.
_PATH_SAFE_LITERAL = "/:@!$&'()*+,;=~"
#: Characters kept as-is in urlencoded forms and query strings (Werkzeug's set).
_FORM_SAFE = "!$'()*,/:;?@"


def _wsgi_str(value: str) -> str:
    """A str as PEP 3333 carries it: its UTF-8 bytes decoded as latin-1."""
    if value.isascii():
        return value
    return value.encode().decode("latin-1")


def _unwsgi_str(value: str) -> str:
    """Undo ``_wsgi_str`` (bytes that are not UTF-8 are kept as latin-1)."""
    if value.isascii():
        return value
    raw = value.encode("latin-1")
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return value


def _iri_to_uri(value: str) -> str:
    """Percent-encode what may not appear raw in a URI path (``%XX`` is kept)."""
    if value.isascii() and " " not in value and '"' not in value:
        return value
    return quote(value, safe=_PATH_SAFE)


def _decode_path(value: str) -> str:
    """A URI path as ``PATH_INFO``: percent-decoded, then the bytes as latin-1."""
    if "%" not in value:
        return _wsgi_str(value)
    return unquote_to_bytes(value).decode("latin-1")


def _iter_data(data: Any) -> Iterator[tuple[str, Any]]:
    """(key, value) pairs of a dict (lists give repeated keys) or a MultiDict."""
    if isinstance(data, MultiDict):
        yield from data.items(multi=True)
        return
    items = data.items() if hasattr(data, "items") else data
    for key, value in items:
        if isinstance(value, list):
            for item in value:
                yield key, item
        else:
            yield key, value


def _urlencode(pairs: Iterable[tuple[str, Any]]) -> str:
    """``application/x-www-form-urlencoded`` text; ``None`` values are skipped."""
    out = []
    for key, value in pairs:
        if value is None:
            continue
        if isinstance(value, bytes):
            enc = quote_plus(value, safe=_FORM_SAFE)
        else:
            enc = quote_plus(str(value), safe=_FORM_SAFE)
        out.append(f"{quote_plus(str(key), safe=_FORM_SAFE)}={enc}")
    return "&".join(out)


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    """Normalise headers given as Headers, a dict (list values repeat) or pairs."""
    if headers is None:
        return []
    if isinstance(headers, Headers):
        return [(k, v) for k, v in headers.items()]
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: list[tuple[str, str]] = []
    for key, value in items:
        if isinstance(value, (list, tuple)):
            out.extend((key, str(v)) for v in value)
        else:
            out.append((key, str(value)))
    return out


def _quote_disposition(value: str) -> str:
    """Quote a name for Content-Disposition as browsers do (HTML spec)."""
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _file_name(value: Any) -> str | None:
    name = getattr(value, "filename", None)
    if name is None and not isinstance(value, FileStorage):
        name = getattr(value, "name", None)
    if name is None or isinstance(name, int):
        return None
    name = os.fsdecode(name)
    if name[:1] == "<" and name[-1:] == ">":
        return None
    return name


def stream_encode_multipart(
    data: Any, use_tempfile: bool = True, threshold: int = 1024 * 500, boundary: str | None = None
) -> tuple[IO[bytes], int, str]:
    """Encode ``data`` (dict or MultiDict; file values have ``read``) as multipart.

    Returns ``(stream, length, boundary)`` with the stream at position 0. The
    ``use_tempfile``/``threshold`` arguments exist for Werkzeug compatibility;
    the body is built in memory.
    """
    if boundary is None:
        boundary = f"---------------ErlenFormPart_{secrets.token_hex(16)}"
    sep = f"--{boundary}\r\n".encode()
    out = BytesIO()
    write = out.write
    for key, value in _iter_data(data):
        disposition = f'Content-Disposition: form-data; name="{_quote_disposition(str(key))}"'
        reader = getattr(value, "read", None)
        if reader is None:
            if isinstance(value, bytes):
                body = value
            else:
                body = str(value).encode()
            write(sep)
            write(f"{disposition}\r\n\r\n".encode())
            write(body)
            write(b"\r\n")
            continue
        filename = _file_name(value)
        content_type = getattr(value, "content_type", None)
        if not content_type:
            guessed = mimetypes.guess_type(filename)[0] if filename else None
            content_type = guessed or "application/octet-stream"
        if filename is not None:
            disposition += f'; filename="{_quote_disposition(filename)}"'
        write(sep)
        write(f"{disposition}\r\nContent-Type: {content_type}\r\n\r\n".encode())
        while True:
            chunk = reader(16384)
            if not chunk:
                break
            write(chunk if isinstance(chunk, bytes) else chunk.encode())
        write(b"\r\n")
    write(f"--{boundary}--\r\n".encode())
    length = out.tell()
    out.seek(0)
    return out, length, boundary


def encode_multipart(data: Any, boundary: str | None = None) -> tuple[str, bytes]:
    """Like ``stream_encode_multipart`` but returns ``(boundary, body_bytes)``."""
    stream, _length, boundary = stream_encode_multipart(data, boundary=boundary)
    return boundary, stream.read()


class EnvironBuilder:
    """Build a WSGI environ (and request) from test arguments.

    Given ``app``, the host, script root and scheme default from its config
    (``SERVER_NAME``, ``APPLICATION_ROOT``, ``PREFERRED_URL_SCHEME``) as Flask's
    test builder does, and JSON goes through ``app.json``.
    """

    server_protocol = "HTTP/1.1"
    wsgi_version = (1, 0)
    #: The request class ``get_request`` builds (resolved lazily).
    request_class: Any = None
    #: Werkzeug-compatible hook: how ``json=`` is serialised without an app.
    json_dumps_default = staticmethod(_stdlib_json.dumps)

    def __init__(
        self,
        app: Any = None,
        path: str = "/",
        base_url: str | None = None,
        subdomain: str | None = None,
        url_scheme: str | None = None,
        query_string: Mapping[str, Any] | str | bytes | None = None,
        method: str = "GET",
        input_stream: IO[bytes] | None = None,
        content_type: str | None = None,
        content_length: int | None = None,
        errors_stream: IO[str] | None = None,
        multithread: bool = False,
        multiprocess: bool = False,
        run_once: bool = False,
        headers: Any = None,
        data: Any = None,
        environ_base: Mapping[str, Any] | None = None,
        environ_overrides: Mapping[str, Any] | None = None,
        mimetype: str | None = None,
        json: Any = None,
        auth: Any = None,
    ) -> None:
        if isinstance(app, str):
            # Werkzeug-style positional call without an app: (path, base_url)
            if path != "/" and base_url is None:
                base_url = path
            app, path = None, app
        if base_url is not None and (subdomain or url_scheme):
            raise ValueError('Cannot pass "subdomain" or "url_scheme" with "base_url".')
        if isinstance(path, bytes):
            path = path.decode()
        url = urlsplit(path)
        if base_url is None and (app is not None or url.netloc or subdomain or url_scheme):
            config: Mapping[str, Any] = app.config if app is not None else {}
            host = config.get("SERVER_NAME") or "localhost"
            root = config.get("APPLICATION_ROOT") or "/"
            if subdomain:
                host = f"{subdomain}.{host}"
            scheme = url_scheme or config.get("PREFERRED_URL_SCHEME") or "http"
            base_url = f"{url.scheme or scheme}://{url.netloc or host}/{root.lstrip('/')}"
        self.app = app
        if query_string is None and "?" in path:
            query_string = url.query
        self.request_uri = path
        self.path = _iri_to_uri(url.path)
        self.base_url = base_url  # type: ignore[assignment]
        self._query_string: str | None = None
        self._args: MultiDict | None = None
        if isinstance(query_string, bytes):
            query_string = query_string.decode("latin-1")
        if isinstance(query_string, str):
            self._query_string = query_string
        elif query_string is not None:
            self._args = query_string if isinstance(query_string, MultiDict) else MultiDict()
            if self._args is not query_string:
                for key, value in _iter_data(query_string):
                    self._args.add(key, value)
        self.method = method
        self.headers = Headers(_header_pairs(headers))
        if content_type is not None:
            self.content_type = content_type
        if errors_stream is None:
            errors_stream = sys.stderr
        self.errors_stream = errors_stream
        self.multithread = multithread
        self.multiprocess = multiprocess
        self.run_once = run_once
        self.environ_base = environ_base
        self.environ_overrides = environ_overrides
        self._input_stream: IO[bytes] | None = input_stream
        self._form: MultiDict | None = None
        self._files: FileMultiDict | None = None
        self.closed = False
        if content_length is not None:
            self.content_length = content_length
        if auth is not None:
            self.headers.set("Authorization", self._auth_header(auth))
        if json is not None:
            if data is not None:
                raise TypeError("can't provide both json and data")
            data = self.json_dumps(json)
            if self.content_type is None:
                self.content_type = "application/json"
        if data:
            if input_stream is not None:
                raise TypeError("can't provide input stream and data")
            if hasattr(data, "read"):
                data = data.read()
            if isinstance(data, str):
                data = data.encode()
            if isinstance(data, (bytes, bytearray)):
                self._input_stream = BytesIO(bytes(data))
                if self.content_length is None:
                    self.content_length = len(data)
            else:
                for key, value in _iter_data(data):
                    if isinstance(value, tuple) or hasattr(value, "read"):
                        self._add_file(key, value)
                    else:
                        self.form.add(key, value)
        if mimetype is not None:
            self.mimetype = mimetype

    # -- helpers -----------------------------------------------------------
    @staticmethod
    def _auth_header(auth: Any) -> str:
        if isinstance(auth, tuple):
            user, password = auth
            token = b64encode(f"{user}:{password}".encode()).decode("ascii")
            return f"Basic {token}"
        if isinstance(auth, str):
            return auth
        return str(auth.to_header())

    def json_dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialise ``json=``: the app's JSON provider when there is an app."""
        if self.app is not None:
            return str(self.app.json.dumps(obj, **kwargs))
        return self.json_dumps_default(obj, **kwargs)

    def _add_file(self, key: str, value: Any) -> None:
        if isinstance(value, tuple):
            self.files.add_file(key, *value)
        else:
            self.files.add_file(key, value)

    @classmethod
    def from_environ(cls, environ: Mapping[str, Any], **kwargs: Any) -> EnvironBuilder:
        """A builder that reproduces ``environ`` (``kwargs`` override fields)."""
        headers = Headers()
        for key, value in environ.items():
            if key.startswith("HTTP_") and key not in ("HTTP_HOST", "HTTP_CONTENT_TYPE"):
                if key == "HTTP_CONTENT_LENGTH":
                    continue
                headers.add(key[5:].replace("_", "-").title(), value)
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "localhost")
        scheme = environ.get("wsgi.url_scheme", "http")
        script = quote(_unwsgi_str(environ.get("SCRIPT_NAME", "")), safe=_PATH_SAFE_LITERAL)
        out: dict[str, Any] = {
            "path": quote(
                _unwsgi_str(environ.get("PATH_INFO", "") or "/"), safe=_PATH_SAFE_LITERAL
            ),
            "base_url": f"{scheme}://{host}{script}",
            "query_string": _unwsgi_str(environ.get("QUERY_STRING", "")),
            "method": environ.get("REQUEST_METHOD", "GET"),
            "input_stream": environ.get("wsgi.input"),
            "content_type": environ.get("CONTENT_TYPE") or None,
            "content_length": environ.get("CONTENT_LENGTH") or None,
            "errors_stream": environ.get("wsgi.errors"),
            "multithread": environ.get("wsgi.multithread", False),
            "multiprocess": environ.get("wsgi.multiprocess", False),
            "run_once": environ.get("wsgi.run_once", False),
            "headers": headers,
        }
        out.update(kwargs)
        return cls(**out)

    # -- URL parts ---------------------------------------------------------
    @property
    def base_url(self) -> str:
        """Scheme, host and script root as one URL (settable)."""
        return f"{self.url_scheme}://{self.host}{quote(self.script_root, safe=_PATH_SAFE_LITERAL)}/"

    @base_url.setter
    def base_url(self, value: str | None) -> None:
        if value is None:
            scheme, netloc, script_root = "http", "localhost", ""
        else:
            parts = urlsplit(_iri_to_uri(value) if not value.isascii() else value)
            if parts.query or parts.fragment:
                raise ValueError("base url must not contain a query string or fragment")
            scheme, netloc, script_root = parts.scheme or "http", parts.netloc, parts.path
        self.script_root = unquote(script_root).rstrip("/")
        self.host = netloc or "localhost"
        self.url_scheme = scheme

    @property
    def server_name(self) -> str:
        """The host without its port."""
        host = self.host
        if host.startswith("["):
            return host.partition("]")[0] + "]"
        return host.partition(":")[0]

    @property
    def server_port(self) -> int:
        """The port from the host, else the scheme's default."""
        host = self.host
        if host.startswith("["):
            host = host.partition("]")[2]
        _, sep, port = host.partition(":")
        if sep and port.isdigit():
            return int(port)
        return 443 if self.url_scheme == "https" else 80

    @property
    def query_string(self) -> str:
        """The query string: the given string, or ``args`` urlencoded."""
        if self._query_string is not None:
            return self._query_string
        if self._args is not None:
            return _urlencode(self._args.items(multi=True))
        return ""

    @query_string.setter
    def query_string(self, value: str | None) -> None:
        self._query_string = value
        self._args = None

    @property
    def args(self) -> MultiDict:
        """Query arguments as a MultiDict (replaces a string query when used)."""
        if self._query_string is not None:
            raise AttributeError("a query string is defined")
        if self._args is None:
            self._args = MultiDict()
        return self._args

    @args.setter
    def args(self, value: MultiDict | None) -> None:
        self._query_string = None
        self._args = value

    # -- body --------------------------------------------------------------
    @property
    def content_type(self) -> str | None:
        """The Content-Type header, or the one implied by form/files data."""
        ct = self.headers.get("Content-Type")
        if ct is None and self._input_stream is None:
            if self._files:
                return "multipart/form-data"
            if self._form:
                return "application/x-www-form-urlencoded"
        return ct  # type: ignore[no-any-return]

    @content_type.setter
    def content_type(self, value: str | None) -> None:
        if value is None:
            self.headers.pop("Content-Type", None)
        else:
            self.headers.set("Content-Type", value)

    @property
    def mimetype(self) -> str | None:
        """The content type without parameters."""
        ct = self.content_type
        return ct.partition(";")[0].strip() if ct else None

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        self.content_type = value

    @property
    def content_length(self) -> int | None:
        """The Content-Length header as an int."""
        value = self.headers.get("Content-Length")
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            return None

    @content_length.setter
    def content_length(self, value: int | str | None) -> None:
        if value is None:
            self.headers.pop("Content-Length", None)
        else:
            self.headers.set("Content-Length", str(value))

    @property
    def form(self) -> MultiDict:
        """Form fields (setting them drops an explicit input stream)."""
        if self._form is None:
            self._form = MultiDict()
        return self._form

    @form.setter
    def form(self, value: MultiDict) -> None:
        self._input_stream = None
        self._form = value

    @property
    def files(self) -> FileMultiDict:
        """Uploaded files: ``builder.files.add_file(name, file, filename)``."""
        if self._files is None:
            self._files = FileMultiDict()
        return self._files

    @files.setter
    def files(self, value: FileMultiDict) -> None:
        self._input_stream = None
        self._files = value

    @property
    def input_stream(self) -> IO[bytes] | None:
        """An explicit body stream (setting it drops form and files)."""
        return self._input_stream

    @input_stream.setter
    def input_stream(self, value: IO[bytes] | None) -> None:
        self._input_stream = value
        self._form = None
        self._files = None

    def close(self) -> None:
        """Close the files added to the builder."""
        if self.closed:
            return
        if self._files:
            for _key, f in self._files.items(multi=True):
                try:
                    f.close()
                except Exception:
                    pass
        self.closed = True

    # -- output ------------------------------------------------------------
    def get_environ(self) -> dict[str, Any]:
        """The WSGI environ, with the body encoded into ``wsgi.input``."""
        stream = self._input_stream
        content_length = self.content_length
        content_type = self.content_type
        mimetype = content_type.partition(";")[0].strip() if content_type else None
        if stream is not None:
            if hasattr(stream, "seekable") and stream.seekable():
                start = stream.tell()
                stream.seek(0, 2)
                content_length = stream.tell() - start
                stream.seek(start)
            input_stream: Any = stream
        elif mimetype == "multipart/form-data":
            parts = MultiDict()
            for source in (self._form, self._files):
                if source:
                    for key, value in source.items(multi=True):
                        parts.add(key, value)
            input_stream, content_length, boundary = stream_encode_multipart(parts)
            content_type = f'{mimetype}; boundary="{boundary}"'
        elif mimetype == "application/x-www-form-urlencoded":
            body = _urlencode(self._form.items(multi=True) if self._form else ()).encode("ascii")
            content_length = len(body)
            input_stream = BytesIO(body)
        else:
            input_stream = BytesIO()

        result: dict[str, Any] = {"REMOTE_ADDR": "127.0.0.1"}
        if self.environ_base:
            result.update(self.environ_base)
        qs = _wsgi_str(self.query_string)
        raw_uri = _wsgi_str(quote(self.script_root, safe=_PATH_SAFE_LITERAL) + self.path)
        if qs:
            raw_uri = f"{raw_uri}?{qs}"
        result.update(
            {
                "REQUEST_METHOD": self.method,
                "SCRIPT_NAME": _wsgi_str(self.script_root),
                "PATH_INFO": _decode_path(self.path),
                "QUERY_STRING": qs,
                "REQUEST_URI": raw_uri,
                "RAW_URI": raw_uri,
                "SERVER_NAME": self.server_name,
                "SERVER_PORT": str(self.server_port),
                "HTTP_HOST": self.host,
                "SERVER_PROTOCOL": self.server_protocol,
                "wsgi.version": self.wsgi_version,
                "wsgi.url_scheme": self.url_scheme,
                "wsgi.input": input_stream,
                "wsgi.errors": self.errors_stream,
                "wsgi.multithread": self.multithread,
                "wsgi.multiprocess": self.multiprocess,
                "wsgi.run_once": self.run_once,
            }
        )
        if content_type is not None:
            result["CONTENT_TYPE"] = content_type
        if content_length is not None:
            result["CONTENT_LENGTH"] = str(content_length)
        headers_env: dict[str, str] = {}
        for key, value in self.headers.items():
            upper = key.upper()
            if upper in ("CONTENT-TYPE", "CONTENT-LENGTH"):
                continue
            name = "HTTP_" + upper.replace("-", "_")
            prev = headers_env.get(name)
            headers_env[name] = value if prev is None else f"{prev}, {value}"
        result.update(headers_env)
        if self.environ_overrides:
            result.update(self.environ_overrides)
        return result

    def get_request(self, cls: Any = None) -> Any:
        """A request object for the built environ (``erlen.http.request.Request``)."""
        if cls is None:
            cls = self.request_class
            if cls is None:
                from ..http.request import Request

                cls = Request
        return cls(self.get_environ())
