"""Accounts: registration, login with "remember me", logout, roles with a page each
(admin, teacher, student) and password reset by e-mail.

Written as a Flask app with its usual extensions, imports saying ``erlen``:

- ``erlen.forms`` (Flask-WTF): every form is a ``FlaskForm`` with a CSRF token;
- ``erlen.security`` (Flask-Security-Too's roles part): users and roles in ``erlen.db``
  (Flask-SQLAlchemy), passwords hashed with argon2id, ``roles_required`` pages;
- ``erlen.login`` (Flask-Login, set up by ``Security``): the session and the remember cookie;
- ``erlen.mail`` (Flask-Mail): the reset link, signed by itsdangerous and valid for an hour
  and for one use (it names the user's ``fs_uniquifier``, which a reset changes).

Run it with ``make example NAME=auth`` (README.md: demo accounts, mail settings).
"""

from __future__ import annotations

import argparse
import os
import sys

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from wtforms import BooleanField, EmailField, PasswordField, SelectField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from erlen import Flask, current_app, flash, redirect, render_template, url_for
from erlen.db import SQLAlchemy
from erlen.forms import CSRFError, CSRFProtect, FlaskForm
from erlen.login import current_user, login_required, login_user, logout_user, safe_next
from erlen.mail import Mail, MailSendError, Message, email_dispatched
from erlen.security import (
    RoleMixin,
    Security,
    SQLAlchemyUserDatastore,
    UserMixin,
    hash_password,
    roles_required,
    verify_and_update_password,
)

ROLES = {"admin": "Administrator", "teacher": "Teacher", "student": "Student"}
DEMO_USERS = [  # made by `python app.py` in an empty database, for trying the role pages
    ("admin@example.com", "admin-password", "admin"),
    ("teacher@example.com", "teacher-password", "teacher"),
]
RESET_SALT = "password-reset"

db = SQLAlchemy()
csrf = CSRFProtect()
mail = Mail()

roles_users = db.Table(
    "roles_users",
    db.Column("user_id", db.Integer, db.ForeignKey("user.id"), primary_key=True),
    db.Column("role_id", db.Integer, db.ForeignKey("role.id"), primary_key=True),
)


class Role(db.Model, RoleMixin):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(80), unique=True, nullable=False)


class User(db.Model, UserMixin):
    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(255), unique=True, nullable=False)
    password = db.Column(db.String(255), nullable=False)
    active = db.Column(db.Boolean, nullable=False, default=True)
    fs_uniquifier = db.Column(db.String(64), unique=True, nullable=False)
    roles = db.relationship("Role", secondary=roles_users, backref="users", lazy="selectin")

    @property
    def role(self) -> str:
        return self.roles[0].name if self.roles else "student"


user_datastore = SQLAlchemyUserDatastore(db, User, Role)
security = Security()


# -- forms ------------------------------------------------------------------------------
def _new_password(label: str = "Password") -> PasswordField:
    return PasswordField(label, validators=[
        DataRequired("Choose a password."),
        Length(8, 128, "Use 8 to 128 characters for the password."),
    ])  # fmt: skip


def _email_field() -> EmailField:
    return EmailField("E-mail", validators=[
        DataRequired("Enter your e-mail address."),
        Email("That is not an e-mail address."),
        Length(max=255),
    ])  # fmt: skip


class RegisterForm(FlaskForm):
    email = _email_field()
    password = _new_password()
    confirm = PasswordField(
        "Repeat the password", validators=[EqualTo("password", "The passwords differ.")]
    )

    def validate_email(self, field) -> None:
        if user_datastore.find_user(case_insensitive=True, email=field.data.strip()):
            raise ValidationError("That e-mail address already has an account; log in instead.")


class LoginForm(FlaskForm):
    email = _email_field()
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])
    remember = BooleanField("Remember me")


class ResetRequestForm(FlaskForm):
    email = _email_field()


class ResetForm(FlaskForm):
    password = _new_password("New password")
    confirm = PasswordField(
        "Repeat it", validators=[EqualTo("password", "The passwords differ.")]
    )


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=list(ROLES))


# -- password reset tokens --------------------------------------------------------------
def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=RESET_SALT)


def reset_token(user: User) -> str:
    """Signed, names the user by ``fs_uniquifier``: a reset (which changes it) voids it."""
    return _serializer().dumps(user.fs_uniquifier)


def user_of_reset_token(token: str) -> tuple[User | None, str]:
    """(the user, "") or (None, why the token is refused)."""
    try:
        uniquifier = _serializer().loads(token, max_age=current_app.config["RESET_MAX_AGE"])
    except SignatureExpired:
        return None, "This reset link has expired. Ask for a new one."
    except BadSignature:
        return None, "This reset link is not valid. Ask for a new one."
    user = user_datastore.find_user(fs_uniquifier=str(uniquifier))
    if user is None:
        return None, "This reset link was already used. Ask for a new one."
    return user, ""


def flash_errors(form: FlaskForm) -> None:
    for errors in form.errors.values():
        for error in errors:
            flash(error, "error")


def print_mail(app, message: Message) -> None:
    """Without a mail server (no MAIL_SERVER), mails are printed on the console."""
    print(f"--- mail to {', '.join(message.recipients)} (not sent: no MAIL_SERVER) ---")
    print(f"Subject: {message.subject}\n\n{message.body}\n---", flush=True)


# -- the app ----------------------------------------------------------------------------
def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("AUTH_INSTANCE_PATH") or None)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("AUTH_SECRET_KEY", "dev-only-secret-change-me"),
        SQLALCHEMY_DATABASE_URI=os.environ.get(
            "DATABASE_URL", "sqlite:///" + os.path.join(app.instance_path, "auth.sqlite3")
        ),
        RESET_MAX_AGE=3600,  # seconds a reset link is valid
        MAIL_DEFAULT_SENDER=("erlen auth example", "noreply@example.com"),
        MAIL_TIMEOUT=10,
    )
    if os.environ.get("MAIL_SERVER"):
        app.config["MAIL_SERVER"] = os.environ["MAIL_SERVER"]
        app.config["MAIL_PORT"] = int(os.environ.get("MAIL_PORT", 25))
    if test_config:
        app.config.update(test_config)
    if not app.config.get("MAIL_SERVER"):
        app.config["MAIL_SUPPRESS_SEND"] = True
        email_dispatched.connect(print_mail, app)
    db.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    security.init_app(app, user_datastore)
    app.login_manager.login_view = "login"
    app.login_manager.login_message_category = "info"

    @app.context_processor
    def roles():
        return {"ROLES": ROLES}

    @app.route("/")
    def index():
        return render_template("index.html")

    @app.route("/register", methods=["GET", "POST"])
    def register():
        form = RegisterForm()
        if form.validate_on_submit():
            user = user_datastore.create_user(
                email=form.email.data.strip().lower(), password=form.password.data,
                roles=["student"],
            )  # fmt: skip
            user_datastore.commit()
            login_user(user)
            flash("Welcome! Your account is ready.", "success")
            return redirect(url_for("index"))
        flash_errors(form)
        return render_template("register.html", form=form), 400 if form.errors else 200

    @app.route("/login", methods=["GET", "POST"])
    def login():
        form = LoginForm()
        if form.validate_on_submit():
            user = user_datastore.find_user(case_insensitive=True, email=form.email.data.strip())
            if user and user.active and verify_and_update_password(form.password.data, user):
                user_datastore.commit()  # a rehashed password, if the hash was old
                login_user(user, remember=form.remember.data)
                flash(f"Logged in as {user.email}.", "success")
                return redirect(safe_next(url_for("index")))
            flash("Wrong e-mail or password.", "error")
            return render_template("login.html", form=form), 400
        flash_errors(form)
        return render_template("login.html", form=form), 400 if form.errors else 200

    @app.post("/logout")
    @login_required
    def logout():
        logout_user()
        flash("You are logged out.", "success")
        return redirect(url_for("index"))

    @app.route("/reset", methods=["GET", "POST"])
    def reset_request():
        form = ResetRequestForm()
        if form.validate_on_submit():
            user = user_datastore.find_user(case_insensitive=True, email=form.email.data.strip())
            if user is not None and user.active:
                link = url_for("reset_password", token=reset_token(user), _external=True)
                message = Message(
                    "Reset your password", recipients=[user.email],
                    body=render_template("reset_mail.txt", link=link, user=user),
                )  # fmt: skip
                try:
                    mail.send(message)
                except MailSendError:  # logged by erlen.mail; the user gets a plain message
                    flash("We could not send the e-mail just now. Try again later.", "error")
                    return render_template("reset_request.html", form=form), 503
            # the same answer whether the address has an account or not
            flash(f"If {form.email.data.strip()} has an account, a reset link is on its way.",
                  "success")  # fmt: skip
            return redirect(url_for("login"))
        flash_errors(form)
        return render_template("reset_request.html", form=form), 400 if form.errors else 200

    @app.route("/reset/<token>", methods=["GET", "POST"])
    def reset_password(token: str):
        user, reason = user_of_reset_token(token)
        if user is None:
            flash(reason, "error")
            return redirect(url_for("reset_request"))
        form = ResetForm()
        if form.validate_on_submit():
            user.password = hash_password(form.password.data)
            user_datastore.set_uniquifier(user)  # the link is used up; other logins end
            user_datastore.commit()
            logout_user()
            flash("Your password is changed. Log in with the new one.", "success")
            return redirect(url_for("login"))
        flash_errors(form)
        return render_template("reset_password.html", form=form), 400 if form.errors else 200

    @app.route("/admin")
    @roles_required("admin")
    def admin():
        users = db.session.scalars(db.select(User).order_by(User.email)).all()
        return render_template("admin.html", users=users)

    @app.post("/admin/users/<int:user_id>/role")
    @roles_required("admin")
    def set_role(user_id: int):
        user = db.get_or_404(User, user_id)
        form = RoleForm()
        if not form.validate_on_submit():
            flash("Choose one of the roles offered.", "error")
        elif user == current_user and form.role.data != "admin":
            flash("You cannot take your own admin role away.", "error")
        else:
            user.roles = [user_datastore.find_role(form.role.data)]
            db.session.commit()
            flash(f"{user.email} is now {ROLES[form.role.data].lower()}.", "success")
        return redirect(url_for("admin"))

    @app.route("/teacher")
    @roles_required("teacher")
    def teacher():
        students = db.session.scalars(
            db.select(User).where(User.roles.any(Role.name == "student")).order_by(User.email)
        ).all()
        return render_template("teacher.html", students=students)

    @app.route("/student")
    @roles_required("student")
    def student():
        return render_template("student.html")

    def error_page(status: int, title: str, message: str):
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(CSRFError)
    def csrf_failed(e):
        return error_page(400, "Form not accepted",
                          f"{e.description} Reload the page and send the form again.")  # fmt: skip

    app.register_error_handler(403, lambda e: error_page(
        403, "Not for your role", "Your account does not have the role this page is for."
    ))  # fmt: skip
    app.register_error_handler(404, lambda e: error_page(
        404, "Not found", "There is no such page."
    ))  # fmt: skip
    app.register_error_handler(405, lambda e: error_page(
        405, "Use the form", "That address only takes the form."
    ))  # fmt: skip
    return app


def init_db(app: Flask, demo_users: bool = False) -> None:
    """Create the tables and the roles (and, on request, the demo accounts if no user exists)."""
    with app.app_context():
        db.create_all()
        for name in ROLES:
            user_datastore.find_or_create_role(name)
        user_datastore.commit()
        if demo_users and db.session.scalar(db.select(db.func.count(User.id))) == 0:
            for email, password, role in DEMO_USERS:
                user_datastore.create_user(email=email, password=password, roles=[role])
                print(f"demo account: {email} / {password} ({role})", file=sys.stderr)
            user_datastore.commit()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the accounts example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    app = create_app()
    init_db(app, demo_users=True)
    if not os.environ.get("MAIL_SERVER"):
        print("No MAIL_SERVER set: reset mails are printed here instead of sent.", file=sys.stderr)
    app.run(host=args.host, port=args.port)
