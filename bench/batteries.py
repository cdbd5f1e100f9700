"""Battery benchmarks: erlen with a built-in battery against Flask with the extension it
replaces, and against the same library work done in a bare WSGI function, side by side.

- ``db-row``: GET /item/7 loads one row by primary key from a SQLite file and answers it as
  JSON (erlen + ``erlen.db`` vs Flask + Flask-SQLAlchemy vs a bare WSGI function doing the same
  SQLAlchemy work: a session per request, ``session.get``, ``json.dumps``).
- ``jwt-required``: GET /me behind ``@jwt_required()`` with a valid ``Authorization: Bearer``
  HS256 token, answering the identity as JSON (erlen + ``erlen.jwt`` vs Flask +
  Flask-JWT-Extended).
- ``redis-session``: GET /counter reads a server-side session from Redis, increments a
  counter and writes it back (erlen + ``erlen.sessions.Session`` vs Flask + Flask-Session), on
  one throwaway redis-server this run starts.
- ``login-required``: GET /account behind ``login_required`` with a logged-in user (a
  signed-cookie session from a login before timing; an in-memory ``user_loader``): erlen +
  ``erlen.login`` vs Flask + Flask-Login.
- ``rest-resource`` / ``rest-resource-post``: a ``Resource`` at /todos/<id>: GET returns a
  dict, POST reads the JSON body and returns ``(dict, 201)`` (erlen + ``erlen.rest`` vs
  Flask + Flask-RESTful).
- ``csrf-form``: POST /form of a 3-field form with its CSRF token, validated app-wide and by
  the form (erlen + ``erlen.forms`` vs Flask + Flask-WTF). A GET of the form page before timing
  sets the session cookie and renders the token; every timed POST sends both.

The erlen and Flask apps are one source (``_flask_like_app``), parametrised by the framework
and extension modules, so a difference in the numbers is the framework and its battery.

    .venv/bin/python -m bench.batteries [--quick] [--only db-row] [--readme]

Results: ``bench/results/batteries.md`` / ``.json``; ``--readme`` rewrites the block between
the ``batteries:start``/``batteries:end`` markers of the top-level README.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import platform
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Mapped, mapped_column  # module level: annotations are strings here

from bench import inprocess
from bench.scenarios import Scenario

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ROW_ID = 7
ROW_JSON = {"id": ROW_ID, "name": "item 7", "price": 10.5}
JWT_SECRET = "bench-jwt-secret-not-for-production-0123456789"


def _bench_token() -> str:
    """An access token in Flask-JWT-Extended's claims layout, valid for a day."""
    import jwt

    now = int(time.time())
    claims = {
        "fresh": False,
        "iat": now,
        "jti": "00000000-0000-4000-8000-000000000000",
        "type": "access",
        "sub": "bench-user",
        "nbf": now,
        "csrf": "00000000-0000-4000-8000-000000000001",
        "exp": now + 86400,
    }
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


SCENARIOS: dict[str, Scenario] = {
    "db-row": Scenario(
        "db-row",
        "GET /item/7: one row by primary key from SQLite, as JSON",
        "GET",
        f"/item/{ROW_ID}",
        expect_json=ROW_JSON,
        expect_type="application/json",
    ),
    "jwt-required": Scenario(
        "jwt-required",
        "GET /me: @jwt_required() with a valid Authorization: Bearer token, identity as JSON",
        "GET",
        "/me",
        headers=(("Authorization", "Bearer " + _bench_token()),),
        expect_json={"id": "bench-user"},
        expect_type="application/json",
    ),
    "redis-session": Scenario(
        "redis-session",
        "GET /counter: server-side session in Redis, read, increment, write back",
        "GET",
        "/counter",
        session=True,
        expect_body=b"2",
    ),
    "csrf-form": Scenario(
        "csrf-form",
        "POST /form: 3-field form with a CSRF token (session cookie), validated",
        "POST",
        "/form",
        body=b"name=Ada&email=ada%40example.com&age=36&csrf_token=" + b"__CSRF_TOKEN__",
        content_type="application/x-www-form-urlencoded",
        expect_body=b"Ada ada@example.com 36",
    ),
    "rest-resource": Scenario(
        "rest-resource",
        "GET /todos/7: a Resource's get returning a dict, as JSON",
        "GET",
        "/todos/7",
        expect_json={"id": 7, "task": "item 7", "done": False},
        expect_type="application/json",
    ),
    "rest-resource-post": Scenario(
        "rest-resource-post",
        "POST /todos/7: a Resource's post reading a JSON body, returning (dict, 201)",
        "POST",
        "/todos/7",
        body=b'{"task": "write the bench", "done": true}',
        content_type="application/json",
        expect_status=201,
        expect_json={"id": 7, "task": "write the bench", "done": True},
        expect_type="application/json",
    ),
    "login-required": Scenario(
        "login-required",
        "GET /account: login_required, a logged-in user (cookie session, in-memory users)",
        "GET",
        "/account",
        expect_body=b"hello 7",
    ),
}

#: Scenarios whose body carries a CSRF token: the page whose GET (before timing) sets the
#: session cookie and renders the token in a hidden ``csrf_token`` input. The timed requests
#: send that cookie, with the token in place of ``TOKEN_PLACEHOLDER`` in the body.
TOKEN_PAGES = {"csrf-form": "/form"}
TOKEN_PLACEHOLDER = b"__CSRF_TOKEN__"

#: Columns per scenario: (label, how to build the app), erlen first.
ERLEN = "erlen + erlen.db"
FLASK = "flask + flask-sqlalchemy"
BARE = "bare WSGI + SQLAlchemy"
ERLEN_SESSION = "erlen + erlen.sessions"
FLASK_SESSION = "flask + flask-session"
ERLEN_FORMS = "erlen + erlen.forms"
FLASK_WTF = "flask + flask-wtf"
ERLEN_JWT = "erlen + erlen.jwt"
FLASK_JWT = "flask + flask-jwt-extended"
ERLEN_LOGIN = "erlen + erlen.login"
FLASK_LOGIN = "flask + flask-login"
ERLEN_REST = "erlen + erlen.rest"
FLASK_RESTFUL = "flask + flask-restful"

#: Targets of issue 12: (scenario, numerator column, denominator column, limit, wording).
TARGETS = [
    ("db-row", FLASK, ERLEN, 2.0, "db-row: ≥ 2× flask + flask-sqlalchemy", "ge"),
    ("db-row", ERLEN, BARE, 1.15, "db-row: within 15 % of bare WSGI + SQLAlchemy", "le"),
    ("redis-session", FLASK_SESSION, ERLEN_SESSION, 2.0, "redis-session: ≥ 2× flask + flask-session", "ge"),
    ("csrf-form", FLASK_WTF, ERLEN_FORMS, 2.0, "csrf-form: ≥ 2× flask + flask-wtf", "ge"),
    ("jwt-required", FLASK_JWT, ERLEN_JWT, 2.0, "jwt-required: ≥ 2× flask + flask-jwt-extended", "ge"),
    ("login-required", FLASK_LOGIN, ERLEN_LOGIN, 2.0, "login-required: ≥ 2× flask + flask-login", "ge"),
    ("rest-resource", FLASK_RESTFUL, ERLEN_REST, 2.0, "rest-resource: ≥ 2× flask + flask-restful", "ge"),
    (
        "rest-resource-post",
        FLASK_RESTFUL,
        ERLEN_REST,
        2.0,
        "rest-resource-post: ≥ 2× flask + flask-restful",
        "ge",
    ),
]


def _models(db: Any) -> Any:
    class Item(db.Model):  # type: ignore[name-defined, misc]
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        price: Mapped[float]

    return Item


def _fill(engine: Any, table: Any) -> None:
    with engine.begin() as conn:
        conn.execute(table.delete())
        conn.execute(
            table.insert(),
            [{"id": i, "name": f"item {i}", "price": i * 1.5} for i in range(1, 101)],
        )


def _flask_like_app(framework: str, battery: str, **config: Any) -> Any:
    """The benchmark app on ``framework`` (``flask``/``erlen``) with ``battery``'s module."""
    fw = importlib.import_module(framework)
    app = (getattr(fw, "Erlen", None) or fw.Flask)(__name__)
    app.config.update(SECRET_KEY="bench-secret-key-not-for-production", **config)
    mod = importlib.import_module(battery)
    if hasattr(mod, "SQLAlchemy"):
        db = mod.SQLAlchemy(app)
        item_model = _models(db)
        with app.app_context():
            db.create_all()
            _fill(db.engine, item_model.__table__)

        @app.route("/item/<int:id>")
        def item(id: int) -> Any:
            row = db.get_or_404(item_model, id)
            return {"id": row.id, "name": row.name, "price": row.price}

    elif hasattr(mod, "FlaskForm"):
        from wtforms import IntegerField, StringField
        from wtforms.validators import DataRequired, Length, NumberRange

        mod.CSRFProtect(app)

        class ContactForm(mod.FlaskForm):  # type: ignore[name-defined, misc]
            name = StringField("Name", validators=[DataRequired(), Length(max=80)])
            email = StringField("Email", validators=[DataRequired(), Length(max=120)])
            age = IntegerField("Age", validators=[NumberRange(0, 150)])

        @app.route("/form", methods=["GET", "POST"])
        def form() -> Any:
            f = ContactForm()
            if f.validate_on_submit():
                return f"{f.name.data} {f.email.data} {f.age.data}"
            if f.is_submitted():
                return {"errors": f.errors}, 400
            return str(f.hidden_tag())
    elif hasattr(mod, "Resource"):
        api = mod.Api(app)

        class Todo(mod.Resource):  # type: ignore[name-defined, misc]
            def get(self, id: int) -> Any:
                return {"id": id, "task": f"item {id}", "done": False}

            def post(self, id: int) -> Any:
                body = fw.request.get_json()
                return {"id": id, "task": body["task"], "done": body["done"]}, 201

        api.add_resource(Todo, "/todos/<int:id>")
    elif hasattr(mod, "JWTManager"):
        mod.JWTManager(app)

        @app.route("/me")
        @mod.jwt_required()
        def me() -> Any:
            return {"id": mod.get_jwt_identity()}

    else:
        mod.Session(app)

        @app.route("/counter")
        def counter() -> Any:
            session = fw.session
            session["counter"] = session.get("counter", 0) + 1
            return str(session["counter"])

    return app


def _bare_db_app(uri: str) -> Callable[..., Iterable[bytes]]:
    """The same SQLAlchemy work with no framework: a session per request, get, json.dumps."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import DeclarativeBase, Session

    class Base(DeclarativeBase):
        pass

    class Item(Base):
        __tablename__ = "item"
        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str]
        price: Mapped[float]

    engine = create_engine(uri)
    Base.metadata.create_all(engine)
    _fill(engine, Item.__table__)
    dumps = json.dumps

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path.startswith("/item/") and path[6:].isdigit():
            with Session(engine) as session:
                row = session.get(Item, int(path[6:]))
                if row is not None:
                    body = dumps({"id": row.id, "name": row.name, "price": row.price}).encode()
                    start_response(
                        "200 OK",
                        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
                    )
                    return [body]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return app


def _token_loop(app: Any, sc: Scenario, page: str) -> inprocess.Loop:
    """The timed loop for a scenario that needs a session and a CSRF token (TOKEN_PAGES).

    A GET of ``page`` gives the session cookie and the token; the scenario's request with both
    must pass its check, and the same request with a wrong token must be refused (so the
    check really runs in every column) before anything is timed.
    """
    first = inprocess.call(app, inprocess.make_environ(Scenario("token", "", "GET", page)))
    found = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', first.body)
    if first.status != 200 or found is None:
        raise inprocess.BenchError(f"token page: {first.status} {first.body[:80]!r}")
    cookie = inprocess.session_cookie(first)
    sc = dataclasses.replace(sc, body=sc.body.replace(TOKEN_PLACEHOLDER, found.group(1)))
    template = inprocess.make_environ(sc, cookie)
    problem = sc.check(inprocess.call(app, template, sc.body))
    if problem:
        raise inprocess.BenchError(problem)
    forged = sc.body.replace(found.group(1), found.group(1)[:-4] + b"AAAA")
    if inprocess.call(app, template, forged).status != 400:
        raise inprocess.BenchError("a wrong CSRF token was not refused")
    body = sc.body
    return lambda n: inprocess._loop_wsgi(app, template, body, n)


def _login_app(framework: str, login: str) -> Any:
    """The login-required app on ``framework`` with ``login`` (``erlen.login``/``flask_login``):
    ``/login`` logs user 7 in, ``/account`` needs a login; users live in a dict."""
    fw = importlib.import_module(framework)
    lm = importlib.import_module(login)
    app = fw.Flask(__name__)
    app.config["SECRET_KEY"] = "bench-secret-key-not-for-production"
    manager = lm.LoginManager(app)
    manager.login_view = "login"

    class User(lm.UserMixin):  # type: ignore[name-defined, misc]
        def __init__(self, id: int) -> None:
            self.id = id

    users = {str(i): User(i) for i in range(1, 11)}
    manager.user_loader(users.get)

    @app.route("/login")
    def login() -> str:
        lm.login_user(users["7"])
        return "logged in"

    @app.route("/account")
    @lm.login_required
    def account() -> str:
        return f"hello {lm.current_user.id}"

    return app


def _login_loop(app: Any, sc: Scenario) -> inprocess.Loop:
    """The timed loop for login-required: a GET of /login (before timing) gives the session
    cookie of a logged-in user; the scenario with it must pass its check and without it must
    redirect to the login page (so the check really runs in every column)."""
    first = inprocess.call(app, inprocess.make_environ(Scenario("login", "", "GET", "/login")))
    template = inprocess.make_environ(sc, inprocess.session_cookie(first))
    problem = sc.check(inprocess.call(app, template))
    if problem:
        raise inprocess.BenchError(problem)
    if inprocess.call(app, inprocess.make_environ(sc)).status != 302:
        raise inprocess.BenchError("an anonymous request was not redirected to the login page")
    return lambda n: inprocess._loop_wsgi(app, template, b"", n)


#: Scenarios with a loop of their own (scenario name → loop builder).
LOOPS: dict[str, Callable[[Any, Scenario], inprocess.Loop]] = {"login-required": _login_loop}


def _columns(name: str, tmp: str, redis_url: str | None) -> dict[str, Callable[[], Any]]:
    if name == "login-required":
        return {
            ERLEN_LOGIN: lambda: _login_app("erlen", "erlen.login"),
            FLASK_LOGIN: lambda: _login_app("flask", "flask_login"),
        }
    if name == "csrf-form":
        return {
            ERLEN_FORMS: lambda: _flask_like_app("erlen", "erlen.forms"),
            FLASK_WTF: lambda: _flask_like_app("flask", "flask_wtf"),
        }
    if name == "db-row":

        def uri(label: str) -> str:
            return "sqlite:///" + os.path.join(tmp, label + ".db")

        return {
            ERLEN: lambda: _flask_like_app("erlen", "erlen.db", SQLALCHEMY_DATABASE_URI=uri("erlen")),
            FLASK: lambda: _flask_like_app(
                "flask", "flask_sqlalchemy", SQLALCHEMY_DATABASE_URI=uri("flask")
            ),
            BARE: lambda: _bare_db_app(uri("bare")),
        }
    if name in ("rest-resource", "rest-resource-post"):
        return {
            ERLEN_REST: lambda: _flask_like_app("erlen", "erlen.rest"),
            FLASK_RESTFUL: lambda: _flask_like_app("flask", "flask_restful"),
        }
    if name == "jwt-required":
        return {
            ERLEN_JWT: lambda: _flask_like_app("erlen", "erlen.jwt", JWT_SECRET_KEY=JWT_SECRET),
            FLASK_JWT: lambda: _flask_like_app(
                "flask", "flask_jwt_extended", JWT_SECRET_KEY=JWT_SECRET
            ),
        }
    import redis

    def config(prefix: str) -> dict[str, Any]:
        return {
            "SESSION_TYPE": "redis",
            "SESSION_REDIS": redis.Redis.from_url(redis_url or ""),
            "SESSION_KEY_PREFIX": prefix,
        }

    return {
        ERLEN_SESSION: lambda: _flask_like_app("erlen", "erlen.sessions", **config("erlen:")),
        FLASK_SESSION: lambda: _flask_like_app("flask", "flask_session", **config("flask:")),
    }


def run(names: list[str], quick: bool) -> dict[str, Any]:
    round_s, rounds = (0.02, 2) if quick else (0.25, 7)
    out: dict[str, Any] = {}
    redis_server = None
    with tempfile.TemporaryDirectory(prefix="erlen-bench-") as tmp:
        try:
            if "redis-session" in names:
                sys.path.insert(0, str(ROOT))
                from tests.servers import RedisServer

                redis_server = RedisServer()
                redis_server.start()
            for name in names:
                sc = SCENARIOS[name]
                loops: dict[str, inprocess.Loop] = {}
                out[name] = {}
                url = redis_server.url if redis_server is not None else None
                for label, build in _columns(name, tmp, url).items():
                    try:
                        page = TOKEN_PAGES.get(name)
                        app = build()
                        loops[label] = (
                            _token_loop(app, sc, page)
                            if page
                            else LOOPS[name](app, sc)
                            if name in LOOPS
                            else inprocess.wsgi_loop(app, sc)
                        )
                    except Exception as exc:
                        out[name][label] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
                out[name].update(inprocess.measure_interleaved(loops, round_s, rounds))
                for label, res in out[name].items():
                    shown = f"{res['us']:9.1f} µs" if "us" in res else "FAIL " + res["error"]
                    print(f"  {name:14} {label:26} {shown}", file=sys.stderr, flush=True)
        finally:
            if redis_server is not None:
                redis_server.close()
    return out


def _paired(results: dict[str, Any], name: str, num: str, den: str) -> float | None:
    a = results.get(name, {}).get(num, {}).get("all_us")
    b = results.get(name, {}).get(den, {}).get("all_us")
    if not a or not b:
        return None
    ratios = sorted(x / y for x, y in zip(a, b, strict=False))
    return ratios[len(ratios) // 2]


def report(results: dict[str, Any]) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"Battery scenarios, measured {when}, CPython {platform.python_version()}, in-process"
        " (`python -m bench.batteries`; µs per request, lower is better):",
        "",
        "| scenario | column | µs |",
        "|---|---|---:|",
    ]
    for name, cols in results.items():
        for label, res in cols.items():
            lines.append(
                f"| {name} | {label} | {res['us']:,.1f} |" if "us" in res else f"| {name} | {label} | FAIL |"
            )
    lines += ["", "| target | this run (best-of ratio; paired rounds) | met |", "|---|---:|:---:|"]
    for name, num, den, limit, wording, how in TARGETS:
        if name not in results:
            continue
        a = results[name].get(num, {}).get("us")
        b = results[name].get(den, {}).get("us")
        if a is None or b is None:
            lines.append(f"| {wording} | n/a | **no** |")
            continue
        ratio = a / b
        met = ratio >= limit if how == "ge" else ratio <= limit
        paired = _paired(results, name, num, den)
        shown = f"{ratio:.2f}×" + (f"; {paired:.2f}×" if paired is not None else "")
        lines.append(f"| {wording} | {shown} | {'yes' if met else '**no**'} |")
    return "\n".join(lines) + "\n"


def _rewrite_readme(block: str) -> None:
    readme = ROOT / "README.md"
    text = readme.read_text()
    start, end = "<!-- batteries:start", "<!-- batteries:end -->"
    head = "<!-- batteries:start (written by `python -m bench.batteries --readme`) -->\n"
    if start in text:
        before = text[: text.index(start)]
        after = text[text.index(end) + len(end) :]
    else:
        marker = "<!-- bench:end -->"
        before = text[: text.index(marker) + len(marker)] + "\n\n"
        after = text[text.index(marker) + len(marker) :]
    readme.write_text(before + head + block + end + after)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="few iterations (smoke run)")
    p.add_argument("--only", action="append", choices=list(SCENARIOS))
    p.add_argument("--readme", action="store_true", help="rewrite the README's batteries block")
    p.add_argument("--out", default=str(RESULTS))
    args = p.parse_args(argv)
    results = run(args.only or list(SCENARIOS), args.quick)
    text = report(results)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "batteries.md").write_text(text)
    (out / "batteries.json").write_text(json.dumps(results, indent=1))
    print(text)
    if args.readme:
        _rewrite_readme(text)
    failed = any("error" in res for cols in results.values() for res in cols.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
