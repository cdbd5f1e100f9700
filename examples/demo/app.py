"""erlen demo: a small notes app (HTML pages, a form with flashing, a JSON API, SQLite).

Written exactly as a Flask app would be, with ``erlen`` imported instead of ``flask``.
Run it with ``make demo`` (or ``python app.py --port 5000``).
"""

from __future__ import annotations

import argparse
import os
import sqlite3

from erlen import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from erlen.views import MethodView

SCHEMA = """
CREATE TABLE IF NOT EXISTS note (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT ''
);
"""


def get_db() -> sqlite3.Connection:
    if "db" not in g:
        from erlen import current_app

        g.db = sqlite3.connect(current_app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
        g.db.executescript(SCHEMA)
    return g.db


def close_db(exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.close()


class NoteAPI(MethodView):
    """/api/notes/<id>: one note."""

    def get(self, note_id: int):
        row = get_db().execute("SELECT * FROM note WHERE id = ?", (note_id,)).fetchone()
        if row is None:
            abort(404)
        return dict(row)

    def delete(self, note_id: int):
        db = get_db()
        cur = db.execute("DELETE FROM note WHERE id = ?", (note_id,))
        db.commit()
        if cur.rowcount == 0:
            abort(404)
        return "", 204


api = Blueprint("api", __name__, url_prefix="/api")
api.add_url_rule("/notes/<int:note_id>", view_func=NoteAPI.as_view("note"))


@api.get("/notes")
def list_notes():
    rows = get_db().execute("SELECT * FROM note ORDER BY id").fetchall()
    return jsonify([dict(r) for r in rows])


@api.post("/notes")
def create_note():
    data = request.get_json()
    if not isinstance(data, dict) or not str(data.get("title", "")).strip():
        return {"error": "a JSON object with a non-empty 'title' is required"}, 400
    db = get_db()
    cur = db.execute(
        "INSERT INTO note (title, body) VALUES (?, ?)",
        (str(data["title"]).strip(), str(data.get("body", ""))),
    )
    db.commit()
    return (
        {"id": cur.lastrowid, "title": data["title"].strip()},
        201,
        {"Location": url_for("api.note", note_id=cur.lastrowid)},
    )


@api.errorhandler(404)
def api_not_found(e):
    return {"error": "not found"}, 404


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("DEMO_SECRET_KEY", "dev-only-secret-change-me"),
        DATABASE=os.path.join(app.instance_path, "demo.sqlite3"),
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.teardown_appcontext(close_db)
    app.register_blueprint(api)

    @app.route("/")
    def index():
        notes = get_db().execute("SELECT * FROM note ORDER BY id DESC").fetchall()
        return render_template("index.html", notes=notes)

    @app.post("/notes")
    def add_note():
        title = request.form.get("title", "").strip()
        if not title:
            flash("A note needs a title.", "error")
            return redirect(url_for("index"))
        db = get_db()
        db.execute(
            "INSERT INTO note (title, body) VALUES (?, ?)",
            (title, request.form.get("body", "")),
        )
        db.commit()
        flash(f"Saved “{title}”.", "success")
        return redirect(url_for("index"))

    @app.route("/notes/<int:note_id>")
    def show_note(note_id: int):
        row = get_db().execute("SELECT * FROM note WHERE id = ?", (note_id,)).fetchone()
        if row is None:
            abort(404)
        return render_template("note.html", note=row)

    @app.errorhandler(404)
    def not_found(e):
        return render_template("404.html"), 404

    return app


app = create_app()

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the erlen demo app.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    app.run(host=args.host, port=args.port, debug=False)
