"""erlen API example: a JSON API of books with JWT auth, typed validation and OpenAPI docs.

- ``POST /auth/token`` trades a username and password for a JWT access token (erlen.jwt);
  ``GET /auth/me`` says who the token belongs to.
- ``/books``: list (paged, public), create (token), read (public), replace and delete (the
  book's owner): pydantic models validate the bodies and describe the answers (erlen.binding:
  invalid input is a 422 listing the errors).
- erlen.db on SQLite keeps users and books.
- ``/openapi.json`` is the OpenAPI 3.1 document built from these routes and ``/docs`` the
  interactive Swagger UI page (assets served by the app itself, no CDN).

Run it with ``make example NAME=api`` (or ``python app.py --port 5000``) and open
http://127.0.0.1:5000/docs; the demo user is ``demo`` / ``demo-password``.
"""

from __future__ import annotations

import argparse
import os
import secrets
from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Mapped, mapped_column

from erlen import Blueprint, Erlen, abort
from erlen.db import SQLAlchemy
from erlen.jwt import JWTManager, create_access_token, get_jwt_identity, jwt_required
from erlen.openapi import OpenAPI, doc
from erlen.security import check_password_hash, generate_password_hash

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN_LIFETIME = timedelta(hours=1)
MAX_ID = 2**31 - 1  # the rules accept no larger id (SQLite would refuse it anyway)

db = SQLAlchemy()


class User(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(db.String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(db.String(255))


class Book(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(db.String(200))
    author: Mapped[str] = mapped_column(db.String(100))
    year: Mapped[int | None]
    owner: Mapped[str] = mapped_column(db.String(50))


# -- the API's types: validated on the way in, documented in /openapi.json -----------------


class Credentials(BaseModel):
    username: str = Field(min_length=1, max_length=50)
    password: str = Field(min_length=1, max_length=200)


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class Me(BaseModel):
    username: str


class BookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    author: str = Field(min_length=1, max_length=100)
    year: int | None = Field(default=None, ge=-3000, le=2100)


class BookOut(BookIn):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner: str


class Error(BaseModel):
    detail: str


# -- routes ---------------------------------------------------------------------------------

auth = Blueprint("auth", __name__, url_prefix="/auth")
books = Blueprint("books", __name__, url_prefix="/books")
BOOK = f"/<int(max={MAX_ID}):book_id>"


@auth.post("/token")
@doc(responses={401: (Error, "Bad username or password")})
def token(credentials: Credentials) -> Token:
    """Log in: trade a username and password for an access token.

    Send it as ``Authorization: Bearer <token>`` (the docs page's Authorize button).
    """
    user = db.session.execute(
        db.select(User).filter_by(username=credentials.username)
    ).scalar_one_or_none()
    # check a hash even for an unknown user: the answer takes as long either way
    pwhash = user.password_hash if user is not None else _dummy_hash()
    if not check_password_hash(pwhash, credentials.password) or user is None:
        abort(401, description="Bad username or password")
    access = create_access_token(identity=user.username, expires_delta=TOKEN_LIFETIME)
    return Token(access_token=access, expires_in=int(TOKEN_LIFETIME.total_seconds()))


@auth.get("/me")
@jwt_required()
def me() -> Me:
    """Who the token belongs to."""
    return Me(username=get_jwt_identity())


@books.get("")
def list_books(
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
    offset: Annotated[int, Field(ge=0, le=MAX_ID)] = 0,
    author: Annotated[str | None, Field(max_length=100)] = None,
) -> list[BookOut]:
    """List books, oldest first; ``author`` filters by exact name."""
    query = db.select(Book).order_by(Book.id).limit(limit).offset(offset)
    if author is not None:
        query = query.filter_by(author=author)
    return [BookOut.model_validate(b) for b in db.session.scalars(query)]


@books.post("")
@jwt_required()
@doc(status_code=201)
def create_book(book: BookIn) -> BookOut:
    """Add a book; the token's user owns it."""
    row = Book(**book.model_dump(), owner=get_jwt_identity())
    db.session.add(row)
    db.session.commit()
    return BookOut.model_validate(row), 201  # type: ignore[return-value]


@books.get(BOOK)
@doc(responses={404: (Error, "No such book")})
def get_book(book_id: int) -> BookOut:
    """One book."""
    return BookOut.model_validate(db.get_or_404(Book, book_id, description="No such book"))


@books.put(BOOK)
@jwt_required()
@doc(responses={403: (Error, "Not your book"), 404: (Error, "No such book")})
def replace_book(book_id: int, book: BookIn) -> BookOut:
    """Replace a book (its owner only)."""
    row = _own_book(book_id)
    for key, value in book.model_dump().items():
        setattr(row, key, value)
    db.session.commit()
    return BookOut.model_validate(row)


@books.delete(BOOK)
@jwt_required()
@doc(status_code=204, responses={403: (Error, "Not your book"), 404: (Error, "No such book")})
def delete_book(book_id: int):
    """Delete a book (its owner only)."""
    db.session.delete(_own_book(book_id))
    db.session.commit()
    return "", 204


def _own_book(book_id: int) -> Book:
    row = db.get_or_404(Book, book_id, description="No such book")
    if row.owner != get_jwt_identity():
        abort(403, description="Not your book")
    return row  # type: ignore[no-any-return]


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(generate_password_hash(secrets.token_hex(16)))
    return _DUMMY[0]


# -- the app --------------------------------------------------------------------------------


def create_app(config: dict | None = None) -> Erlen:
    app = Erlen(__name__, instance_path=os.environ.get("API_INSTANCE_PATH") or None)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(
        SQLALCHEMY_DATABASE_URI=os.environ.get("API_DATABASE_URI")
        or "sqlite:///" + os.path.join(app.instance_path, "api.sqlite"),
        # a fresh random key per start unless one is given: tokens die with the process
        JWT_SECRET_KEY=os.environ.get("API_JWT_SECRET_KEY") or secrets.token_hex(32),
        API_DEMO_PASSWORD=os.environ.get("API_DEMO_PASSWORD", "demo-password"),
        JSON_SORT_KEYS=False,
    )
    app.config.update(config or {})
    db.init_app(app)
    JWTManager(app)
    app.register_blueprint(auth)
    app.register_blueprint(books)
    OpenAPI(
        app,
        title="Books API",
        version="1.0.0",
        description="An erlen example: JWT auth, typed validation, OpenAPI docs.",
    )

    # JSON errors for the API (erlen.binding's 422 and erlen.jwt's answers are JSON already)
    for code in (400, 401, 403, 404, 405, 413, 415):
        app.register_error_handler(code, _json_error)

    with app.app_context():
        db.create_all()
        if db.session.execute(db.select(User).filter_by(username="demo")).first() is None:
            password = app.config["API_DEMO_PASSWORD"]
            db.session.add(User(username="demo", password_hash=generate_password_hash(password)))
            db.session.commit()
    return app


def _json_error(e):
    return {"detail": e.description}, e.code


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the erlen API example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    create_app().run(host=args.host, port=args.port, debug=False)
