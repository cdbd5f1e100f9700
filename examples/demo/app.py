"""erlen demo: a small notes app (HTML pages, a form with flashing, a JSON API, SQLite),
a session page (visit counter, theme preference, "remember me") and an upload/download
page (files kept under the instance folder with ``secure_filename``).

Written exactly as a Flask app would be, with ``erlen`` imported instead of ``flask``.
Run it with ``make demo`` (or ``python app.py --port 5000``).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
from datetime import timedelta

from erlen import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_from_directory,
    session,
    url_for,
)
from erlen.utils import secure_filename
from erlen.views import MethodView

THEMES = ("light", "dark")

SCHEMA = """
CREATE TABLE IF NOT EXISTS note (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT ''
);
"""


def get_db() -> sqlite3.Connection:
    if "db" not in g:
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


prefs = Blueprint("prefs", __name__, url_prefix="/session")


@prefs.route("/")
def show():
    session["visits"] = session.get("visits", 0) + 1
    return render_template("session.html", visits=session["visits"], themes=THEMES)


@prefs.post("/theme")
def set_theme():
    theme = request.form.get("theme", "")
    if theme not in THEMES:
        flash("Unknown theme.", "error")
        return redirect(url_for("prefs.show"))
    session["theme"] = theme
    # "remember me": a permanent cookie lives PERMANENT_SESSION_LIFETIME, else until the
    # browser closes
    session.permanent = request.form.get("remember") == "on"
    flash(f"Theme set to {theme}.", "success")
    return redirect(url_for("prefs.show"))


@prefs.post("/reset")
def reset():
    session.clear()
    flash("Session cleared.", "success")
    return redirect(url_for("prefs.show"))


files = Blueprint("files", __name__, url_prefix="/files")


def upload_folder() -> str:
    folder = current_app.config["UPLOAD_FOLDER"]
    os.makedirs(folder, exist_ok=True)
    return folder


@files.get("/")
def list_files():
    folder = upload_folder()
    entries = [
        {"name": name, "size": os.path.getsize(os.path.join(folder, name))}
        for name in sorted(os.listdir(folder))
        if os.path.isfile(os.path.join(folder, name))
    ]
    return render_template("files.html", files=entries)


@files.post("/")
def upload():
    uploaded = request.files.get("file")
    if uploaded is None or not uploaded.filename:
        flash("Choose a file to upload.", "error")
        return redirect(url_for("files.list_files"))
    name = secure_filename(uploaded.filename)
    if not name:
        flash("That file name cannot be stored.", "error")
        return redirect(url_for("files.list_files"))
    uploaded.save(os.path.join(upload_folder(), name))
    flash(f"Uploaded {name}.", "success")
    return redirect(url_for("files.list_files"))


@files.get("/<path:name>")
def download(name: str):
    return send_from_directory(upload_folder(), name, as_attachment=True)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("DEMO_INSTANCE_PATH") or None)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("DEMO_SECRET_KEY", "dev-only-secret-change-me"),
        DATABASE=os.path.join(app.instance_path, "demo.sqlite3"),
        MAX_CONTENT_LENGTH=1024 * 1024,
        UPLOAD_FOLDER=os.path.join(app.instance_path, "uploads"),
        PERMANENT_SESSION_LIFETIME=timedelta(days=30),
    )
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    app.teardown_appcontext(close_db)
    app.register_blueprint(api)
    app.register_blueprint(prefs)
    app.register_blueprint(files)

    @app.context_processor
    def inject_theme():
        return {"theme": session.get("theme", "light")}

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

    @app.errorhandler(413)
    def too_large(e):
        limit = app.config["MAX_CONTENT_LENGTH"] // 1024
        return render_template("413.html", limit_kib=limit), 413

    return app


app = create_app()

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the erlen demo app.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    app.run(host=args.host, port=args.port, debug=False)
