"""The classic "Flask MySQL login" app (register, log in, a profile page, log out) with SQL
written by hand through ``db.session.execute(text(...))`` on ``erlen.db``, on MariaDB/MySQL.

It needs a database URL: ``DATABASE_URL=mysql://user:password@host/dbname``. Without one it
stops and says how to get one (README.md). The ``accounts`` table is created at start.
"""

from __future__ import annotations

import argparse
import os
import sys

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from wtforms import EmailField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, Length, Regexp

from erlen import Flask, flash, redirect, render_template, session, url_for
from erlen.db import SQLAlchemy
from erlen.forms import CSRFError, CSRFProtect, FlaskForm
from erlen.security import check_password_hash, generate_password_hash

NO_URL = """No DATABASE_URL given. This example runs on MariaDB or MySQL, e.g.:

    sudo apt-get install mariadb-server
    sudo mariadb -e "CREATE DATABASE pythonlogin; CREATE USER 'login'@'localhost' \\
        IDENTIFIED BY 'secret'; GRANT ALL ON pythonlogin.* TO 'login'@'localhost';"
    DATABASE_URL=mysql://login:secret@localhost/pythonlogin make example NAME=mysql-login
"""

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id INT AUTO_INCREMENT PRIMARY KEY,
    username VARCHAR(50) NOT NULL UNIQUE,
    password VARCHAR(255) NOT NULL,
    email VARCHAR(100) NOT NULL
) CHARACTER SET utf8mb4
"""

db = SQLAlchemy()
csrf = CSRFProtect()


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired("Enter your username.")])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class RegisterForm(FlaskForm):
    username = StringField("Username", validators=[
        DataRequired("Choose a username."),
        Length(3, 50, "Use 3 to 50 characters for the username."),
        Regexp(r"^[A-Za-z0-9_.-]+$", message="Use letters, digits, . _ - in the username."),
    ])  # fmt: skip
    password = PasswordField("Password", validators=[
        DataRequired("Choose a password."), Length(8, 128, "Use 8 to 128 characters."),
    ])  # fmt: skip
    email = EmailField("E-mail", validators=[
        DataRequired("Enter your e-mail address."), Email("That is not an e-mail address."),
        Length(max=100),
    ])  # fmt: skip


def flash_errors(form: FlaskForm) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(error, "error")


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("LOGIN_SECRET_KEY", "dev-only-secret-change-me"),
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL"),
    )
    if test_config:
        app.config.update(test_config)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        raise SystemExit(NO_URL)
    db.init_app(app)
    csrf.init_app(app)

    def current_account():
        if "id" not in session:
            return None
        return db.session.execute(
            text("SELECT id, username, email FROM accounts WHERE id = :id"), {"id": session["id"]}
        ).mappings().first()  # fmt: skip

    @app.route("/", methods=["GET", "POST"])
    def login():
        form = LoginForm()
        if form.validate_on_submit():
            account = db.session.execute(
                text("SELECT id, username, password FROM accounts WHERE username = :u"),
                {"u": form.username.data.strip()},
            ).mappings().first()  # fmt: skip
            if account and check_password_hash(account["password"], form.password.data):
                session.clear()
                session["id"] = account["id"]
                flash(f"Welcome back, {account['username']}!", "success")
                return redirect(url_for("home"))
            flash("Incorrect username or password.", "error")
            return render_template("login.html", form=form), 400
        flash_errors(form)
        return render_template("login.html", form=form), 400 if form.errors else 200

    @app.route("/register", methods=["GET", "POST"])
    def register():
        form = RegisterForm()
        if form.validate_on_submit():
            try:
                db.session.execute(
                    text("INSERT INTO accounts (username, password, email) VALUES (:u, :p, :e)"),
                    {"u": form.username.data.strip(), "e": form.email.data.strip(),
                     "p": generate_password_hash(form.password.data)},
                )  # fmt: skip
                db.session.commit()
            except IntegrityError:  # the UNIQUE username
                db.session.rollback()
                flash("That username is taken.", "error")
                return render_template("register.html", form=form), 400
            flash("You have registered; log in now.", "success")
            return redirect(url_for("login"))
        flash_errors(form)
        return render_template("register.html", form=form), 400 if form.errors else 200

    @app.route("/home")
    def home():
        account = current_account()
        if account is None:
            return redirect(url_for("login"))
        return render_template("home.html", account=account)

    @app.route("/profile")
    def profile():
        account = current_account()
        if account is None:
            return redirect(url_for("login"))
        return render_template("profile.html", account=account)

    @app.post("/logout")
    def logout():
        session.clear()
        flash("You are logged out.", "success")
        return redirect(url_for("login"))

    @app.errorhandler(CSRFError)
    def csrf_failed(e):
        return render_template("error.html", title="Form not accepted",
                               message=f"{e.description} Reload the page and try again."), 400

    @app.errorhandler(404)
    def not_found(e):
        return render_template("error.html", title="Not found",
                               message="There is no such page."), 404  # fmt: skip

    return app


def init_db(app: Flask) -> None:
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text(SCHEMA))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the MySQL login example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        print(NO_URL, file=sys.stderr)
        sys.exit(2)
    app = create_app()
    init_db(app)
    app.run(host=args.host, port=args.port)
