"""Pagination: the same pages, numbers and 404s as Flask-SQLAlchemy 3.1 (the real Flask +
Flask-SQLAlchemy app answers the same requests), and the same over every backend."""

from __future__ import annotations

import flask
import flask_sqlalchemy
import pytest

import erlen
from erlen.db import SQLAlchemy
from erlen.db.pagination import Pagination

N_ITEMS = 53


def build(flask_mod, ext, tmp_path, uri):
    app = flask_mod.Flask("pages", instance_path=str(tmp_path / flask_mod.__name__))
    app.config.update(TESTING=True, SQLALCHEMY_DATABASE_URI=uri)
    db = ext(app)

    class Item(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        name = db.Column(db.String(20))

    def describe(p):
        return {
            "items": [i.name for i in p.items],
            "iter": list(p),
            "numbers": [p.page, p.per_page, p.total, p.pages, p.first, p.last],
            "nav": [p.has_prev, p.prev_num, p.has_next, p.next_num],
            "pages": list(p.iter_pages()),
            "pages_tight": list(p.iter_pages(left_edge=1, left_current=0, right_current=1, right_edge=0)),  # noqa: E501
            "prev": [i.name for i in p.prev().items] if p.has_prev else None,
            "next": [i.name for i in p.next().items] if p.has_next else None,
        }

    @app.get("/select")
    def by_select():
        args = {k: int(v) for k, v in flask_mod.request.args.items() if k.startswith("x_")}
        error_out = flask_mod.request.args.get("error_out", "1") == "1"
        p = db.paginate(
            db.select(Item).order_by(Item.id),
            max_per_page=args.get("x_max"),
            error_out=error_out,
            count=flask_mod.request.args.get("count", "1") == "1",
        )
        out = describe(p)
        out["iter"] = [i.name for i in out["iter"]]
        return out

    @app.get("/query")
    def by_query():
        p = Item.query.order_by(Item.id).paginate(error_out=False)
        out = describe(p)
        out["iter"] = [i.name for i in out["iter"]]
        return out

    with app.app_context():
        db.create_all()
        db.session.add_all(Item(name=f"item{n}") for n in range(N_ITEMS))
        db.session.commit()
    return app, db


QUERIES = [
    "", "?page=2", "?page=3", "?page=0", "?page=-1", "?page=99", "?page=abc", "?per_page=5",
    "?per_page=5&page=6", "?per_page=5&page=11", "?per_page=5&page=12", "?per_page=0",
    "?per_page=-3", "?per_page=x", "?per_page=100", "?per_page=100&x_max=7", "?page=8&x_max=7",
    "?page=1.5", "?page=", "?page=2&count=0", "?page=0&error_out=0", "?page=99&error_out=0",
    "?per_page=0&error_out=0", "?per_page=1&page=27", "?per_page=1&page=53", "?per_page=53",
    "?per_page=54", "?per_page=2&page=14", "?page=abc&error_out=0", "?per_page=x&error_out=0",
]  # fmt: skip


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pages")
    ours, _ = build(erlen, SQLAlchemy, tmp, "sqlite:///ours.db")
    theirs, _ = build(flask, flask_sqlalchemy.SQLAlchemy, tmp, "sqlite:///theirs.db")
    return ours.test_client(), theirs.test_client()


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("path", ["/select", "/query"])
def test_same_pages_as_flask_sqlalchemy(both, path, query):
    ours, theirs = both
    mine, real = ours.get(path + query), theirs.get(path + query)
    assert mine.status_code == real.status_code
    if real.status_code == 200:
        assert mine.get_json() == real.get_json()


def test_pages_on_every_backend(tmp_path, database_uri):
    app, db = build(erlen, SQLAlchemy, tmp_path, database_uri)
    client = app.test_client()
    try:
        page = client.get("/select?page=3&per_page=10").get_json()
        assert page["items"] == [f"item{n}" for n in range(20, 30)]
        assert page["numbers"] == [3, 10, N_ITEMS, 6, 21, 30]
        assert page["pages"] == [1, 2, 3, 4, 5, 6]
        assert client.get("/select?page=7&per_page=10").status_code == 404
        last = client.get("/query?page=6&per_page=10").get_json()
        assert last["items"] == ["item50", "item51", "item52"] and last["nav"][2] is False
    finally:
        with app.app_context():
            db.drop_all()
            db.engine.dispose()


class _Fixed(Pagination):
    """A pagination over a known total, for iter_pages against the oracle's."""

    def _query_items(self):
        start = self._query_offset
        return list(range(start, min(start + self.per_page, self._query_args["total"])))

    def _query_count(self):
        return self._query_args["total"]


class _FixedTheirs(flask_sqlalchemy.pagination.Pagination):
    def _query_items(self):
        start = self._query_offset
        return list(range(start, min(start + self.per_page, self._query_args["total"])))

    def _query_count(self):
        return self._query_args["total"]


@pytest.mark.parametrize("total", [0, 1, 9, 10, 11, 95, 300])
def test_iter_pages_matches_flask_sqlalchemy(total):
    pages = max(1, -(-total // 10))
    for page in range(1, pages + 1):
        mine = _Fixed(page=page, per_page=10, total=total, error_out=False)
        real = _FixedTheirs(page=page, per_page=10, total=total, error_out=False)
        for kwargs in ({}, {"left_edge": 0, "right_edge": 0}, {"left_current": 5, "right_current": 0}):  # noqa: E501
            assert list(mine.iter_pages(**kwargs)) == list(real.iter_pages(**kwargs))
