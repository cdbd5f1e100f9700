"""A to-do list: the first app of most Flask tutorials, with the usual extensions.

- models in SQLite through ``erlen.db`` (Flask-SQLAlchemy's API), the schema made by the
  migrations in ``migrations/`` (Flask-Migrate's API: ``erlen db upgrade``);
- add / complete / delete with flashed messages;
- every form carries a CSRF token (``erlen.forms``, Flask-WTF's API).

Run it with ``make example NAME=todo`` (or ``python app.py --port 5000``): the database is
``instance/todo.sqlite3``, upgraded to the latest migration at start.
"""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime

from sqlalchemy.orm import Mapped, mapped_column
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from erlen import Flask, flash, redirect, render_template, url_for
from erlen.db import Migrate, SQLAlchemy, upgrade
from erlen.forms import CSRFError, CSRFProtect, FlaskForm

HERE = os.path.dirname(os.path.abspath(__file__))
TITLE_MAX = 200

db = SQLAlchemy()
migrate = Migrate()
csrf = CSRFProtect()


class Todo(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(db.String(TITLE_MAX))
    done: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=lambda: datetime.now(UTC))


class TodoForm(FlaskForm):
    title = StringField(
        "What needs doing?",
        validators=[
            DataRequired("Write what needs doing."),
            Length(max=TITLE_MAX, message=f"Keep it under {TITLE_MAX} characters."),
        ],
    )


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("TODO_INSTANCE_PATH") or None)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("TODO_SECRET_KEY", "dev-only-secret-change-me"),
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "DATABASE_URL", "sqlite:///" + os.path.join(app.instance_path, "todo.sqlite3")
        ),
    )
    if test_config:
        app.config.update(test_config)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(HERE, "migrations"))
    csrf.init_app(app)

    @app.route("/")
    def index():
        todos = db.session.scalars(db.select(Todo).order_by(Todo.done, Todo.id)).all()
        left = sum(not t.done for t in todos)
        return render_template("index.html", todos=todos, left=left, form=TodoForm())

    @app.post("/todos")
    def add():
        form = TodoForm()
        if not form.validate_on_submit():
            for errors in form.errors.values():
                for error in errors:
                    flash(error, "error")
            return redirect(url_for("index"))
        todo = Todo(title=form.title.data.strip())
        db.session.add(todo)
        db.session.commit()
        flash(f"Added “{todo.title}”.", "success")
        return redirect(url_for("index"))

    @app.post("/todos/<int:todo_id>/toggle")
    def toggle(todo_id: int):
        todo = db.get_or_404(Todo, todo_id)
        todo.done = not todo.done
        db.session.commit()
        flash(f"“{todo.title}” is {'done' if todo.done else 'to do again'}.", "success")
        return redirect(url_for("index"))

    @app.post("/todos/<int:todo_id>/delete")
    def delete(todo_id: int):
        todo = db.get_or_404(Todo, todo_id)
        db.session.delete(todo)
        db.session.commit()
        flash(f"Deleted “{todo.title}”.", "success")
        return redirect(url_for("index"))

    @app.errorhandler(CSRFError)
    def csrf_failed(e):
        return render_template("error.html", title="Form not accepted", message=(
            f"{e.description} Reload the page and send the form again."
        )), 400  # fmt: skip

    @app.errorhandler(404)
    def not_found(e):
        return render_template(
            "error.html", title="Not found", message="That to-do does not exist (any more)."
        ), 404

    @app.errorhandler(405)
    def wrong_method(e):
        return render_template(
            "error.html", title="Use the form", message="That address only takes the form."
        ), 405

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the to-do example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        upgrade()  # `erlen --app app db upgrade`, done here so one command runs the app
    app.run(host=args.host, port=args.port)
