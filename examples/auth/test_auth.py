"""The accounts example through the test client: registration, login, remember-me, roles and
the password reset mailed to a real SMTP server on loopback."""

from __future__ import annotations

import re
import socket
import time

import pytest
from app import User, create_app, db, init_db, user_datastore
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from erlen.security import check_password_hash, hash_password

PASSWORDS = {"admin": "admin-secret-1", "teacher": "teacher-secret-1", "student": "student-secret-1"}
_HASHES: dict[str, str] = {}  # argon2id is slow on purpose: hash each password once


def hashed(password: str) -> str:
    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    return _HASHES[password]


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    monkeypatch.setenv("AUTH_INSTANCE_PATH", str(tmp_path))
    monkeypatch.delenv("MAIL_SERVER", raising=False)

    def make(**config):
        app = create_app({"TESTING": True, **config})
        init_db(app)
        with app.app_context():
            for role, password in PASSWORDS.items():
                user_datastore.create_user(
                    email=f"{role}@school.example.com", password=hashed(password), roles=[role]
                )
            user_datastore.commit()
        return app

    return make


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


def token(client, path: str) -> str:
    match = re.search(r'name="csrf_token"[^>]* value="([^"]+)"', client.get(path).text)
    assert match, f"{path} has no CSRF token"
    return match.group(1)


def login(client, email: str, password: str, **extra):
    data = {"email": email, "password": password, "csrf_token": token(client, "/login"), **extra}
    return client.post("/login", data=data)


def login_as(client, role: str, **extra):
    rv = login(client, f"{role}@school.example.com", PASSWORDS[role], **extra)
    assert rv.status_code == 302, rv.text
    return rv


def logout(client):
    return client.post("/logout", data={"csrf_token": token(client, "/")})


def flashes(rv) -> list[str]:
    return re.findall(r'<p class="flash \w+" role="status">([^<]*)</p>', rv.text)


def count_users(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count(User.id)))


# -- registration -----------------------------------------------------------------------
def test_register_makes_a_student_and_logs_in(client, app):
    rv = client.post("/register", data={
        "email": "New.Pupil@School.example.com", "password": "long enough", "confirm": "long enough",
        "csrf_token": token(client, "/register"),
    }, follow_redirects=True)  # fmt: skip
    assert rv.status_code == 200
    assert flashes(rv) == ["Welcome! Your account is ready."]
    assert "you are logged in as\n    <strong>student</strong>" in rv.text
    with app.app_context():
        user = user_datastore.find_user(email="new.pupil@school.example.com")
        assert [r.name for r in user.roles] == ["student"]
        assert user.password.startswith("$argon2id$") and "long enough" not in user.password
        assert check_password_hash(user.password, "long enough")
    assert client.get("/student").status_code == 200


@pytest.mark.parametrize(
    "email, password, confirm, message",
    [
        ("", "long enough", "long enough", "Enter your e-mail address."),
        ("not-an-address", "long enough", "long enough", "That is not an e-mail address."),
        ("a@school.example.com", "", "", "Choose a password."),
        ("a@school.example.com", "short", "short", "Use 8 to 128 characters for the password."),
        ("a@school.example.com", "long enough", "long enougH", "The passwords differ."),
        ("STUDENT@school.example.com", "long enough", "long enough",
         "That e-mail address already has an account; log in instead."),
    ],
)  # fmt: skip
def test_register_bad_input_is_explained(client, app, email, password, confirm, message):
    before = count_users(app)
    rv = client.post("/register", data={
        "email": email, "password": password, "confirm": confirm,
        "csrf_token": token(client, "/register"),
    })  # fmt: skip
    assert rv.status_code == 400
    assert message in flashes(rv)
    assert count_users(app) == before


# -- login and logout -------------------------------------------------------------------
@pytest.mark.parametrize(
    "email, password",
    [("student@school.example.com", "wrong password"), ("nobody@school.example.com", "student-secret-1")],
)
def test_wrong_login_gets_one_message(client, email, password):
    rv = login(client, email, password)
    assert rv.status_code == 400
    assert flashes(rv) == ["Wrong e-mail or password."]
    assert client.get("/student").status_code == 302


def test_login_form_bad_input(client):
    rv = login(client, "", "")
    assert rv.status_code == 400
    assert flashes(rv) == ["Enter your e-mail address.", "Enter your password."]
    rv = client.post("/login", data={"email": "student@school.example.com", "password": "x"})
    assert rv.status_code == 400
    assert "The CSRF token is missing. Reload the page and send the form again." in rv.text


def test_login_returns_to_the_page_asked_for(client):
    rv = client.get("/teacher")
    assert rv.status_code == 302
    assert rv.headers["Location"] == "/login?next=%2Fteacher"
    rv = client.get(rv.headers["Location"])
    assert "Please log in to access this page." in flashes(rv)
    rv = login(client, "teacher@school.example.com", PASSWORDS["teacher"], next="/teacher")
    assert rv.headers["Location"] == "/teacher"


def test_login_ignores_an_unsafe_next(client):
    rv = login(client, "teacher@school.example.com", PASSWORDS["teacher"], next="//evil.example.com/x")
    assert rv.headers["Location"] == "/"


def test_logout_needs_a_form_post(client):
    login_as(client, "student")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token
    assert client.get("/student").status_code == 200
    rv = logout(client)
    assert rv.headers["Location"] == "/"
    assert flashes(client.get("/")) == ["You are logged out."]
    assert client.get("/student").status_code == 302


# -- remember me ------------------------------------------------------------------------
def test_remember_cookie_logs_back_in_without_the_session(client):
    rv = login_as(client, "student", remember="y")
    assert "remember_token=" in " ".join(rv.headers.getlist("Set-Cookie"))
    client.delete_cookie("session")
    assert client.get_cookie("session") is None
    rv = client.get("/student")
    assert rv.status_code == 200
    assert "Your courses would be listed here, student@school.example.com." in rv.text
    assert client.get_cookie("session") is not None  # the login is back in a session

    logout(client)  # deletes the remember cookie too
    assert client.get_cookie("remember_token") is None
    client.delete_cookie("session")
    assert client.get("/student").status_code == 302


def test_without_remember_me_the_login_ends_with_the_session(client):
    rv = login_as(client, "student")
    assert "remember_token=" not in " ".join(rv.headers.getlist("Set-Cookie"))
    client.delete_cookie("session")
    assert client.get("/student").status_code == 302


def test_forged_remember_cookie_is_anonymous(client, app):
    with app.app_context():
        uid = user_datastore.find_user(email="admin@school.example.com").fs_uniquifier
    client.set_cookie("remember_token", f"{uid}|{'0' * 128}")
    assert client.get("/admin").status_code == 302


# -- roles ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["admin", "teacher", "student"])
def test_each_role_sees_its_page_only(client, role):
    login_as(client, role)
    for page in ("admin", "teacher", "student"):
        rv = client.get(f"/{page}")
        if page == role:
            assert rv.status_code == 200
            assert f"<h1>{page.capitalize() if page != 'admin' else 'Administrator'} page</h1>" in rv.text
        else:
            assert rv.status_code == 403, page
            assert "Your account does not have the role this page is for." in rv.text


def test_anonymous_role_pages_go_to_login(client):
    for page in ("/admin", "/teacher", "/student"):
        assert client.get(page).headers["Location"].startswith("/login?next=")


def test_admin_changes_a_role(client, app):
    with app.app_context():
        student = user_datastore.find_user(email="student@school.example.com").id
        admin = user_datastore.find_user(email="admin@school.example.com").id
    login_as(client, "admin")
    page = client.get("/admin").text
    assert '<option value="student" selected>Student</option>' in page
    rv = client.post(f"/admin/users/{student}/role", data={
        "role": "teacher", "csrf_token": token(client, "/admin"),
    }, follow_redirects=True)  # fmt: skip
    assert flashes(rv) == ["student@school.example.com is now teacher."]
    for role, message in [
        ("root", "Choose one of the roles offered."),
        ("student", "You cannot take your own admin role away."),
    ]:
        rv = client.post(f"/admin/users/{admin}/role", data={
            "role": role, "csrf_token": token(client, "/admin"),
        }, follow_redirects=True)  # fmt: skip
        assert flashes(rv) == [message]
    assert client.post("/admin/users/999/role", data={
        "role": "teacher", "csrf_token": token(client, "/admin")
    }).status_code == 404  # fmt: skip
    logout(client)
    login_as(client, "student")  # now a teacher
    assert client.get("/teacher").status_code == 200
    assert client.get("/student").status_code == 403
    assert client.post(f"/admin/users/{student}/role", data={
        "role": "admin", "csrf_token": token(client, "/"),
    }).status_code == 403  # fmt: skip


# -- password reset ---------------------------------------------------------------------
def ask_for_reset(client, email: str):
    return client.post("/reset", data={"email": email, "csrf_token": token(client, "/reset")})


def test_password_reset_by_mail(make_app, smtp_server):
    app = make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port,
                   MAIL_SUPPRESS_SEND=False)  # fmt: skip
    client = app.test_client()
    rv = ask_for_reset(client, "Student@School.example.com")
    assert rv.headers["Location"] == "/login"
    assert flashes(client.get("/login")) == [
        "If Student@School.example.com has an account, a reset link is on its way."
    ]
    (received,) = smtp_server.messages
    assert received.rcpt_tos == ["student@school.example.com"]
    assert received.message["Subject"] == "Reset your password"
    assert received.message["From"] == "erlen auth example <noreply@example.com>"
    body = received.message.get_content()
    link = re.search(r"http://localhost(/reset/\S+)", body).group(1)

    form = client.get(link)
    assert form.status_code == 200 and "Choose a new password" in form.text
    rv = client.post(link, data={"password": "short", "confirm": "short",
                                 "csrf_token": token(client, link)})  # fmt: skip
    assert rv.status_code == 400
    assert flashes(rv) == ["Use 8 to 128 characters for the password."]
    rv = client.post(link, data={"password": "brand new pass", "confirm": "brand new pass",
                                 "csrf_token": token(client, link)})  # fmt: skip
    assert rv.headers["Location"] == "/login"
    assert flashes(client.get("/login")) == ["Your password is changed. Log in with the new one."]

    assert login(client, "student@school.example.com", PASSWORDS["student"]).status_code == 400
    assert login(client, "student@school.example.com", "brand new pass").status_code == 302
    logout(client)
    client.get("/")  # shows (and drops) "You are logged out."
    rv = client.get(link, follow_redirects=True)  # one use only
    assert flashes(rv) == ["This reset link was already used. Ask for a new one."]


def test_reset_for_an_unknown_address_sends_nothing(make_app, smtp_server):
    app = make_app(MAIL_SERVER=smtp_server.host, MAIL_PORT=smtp_server.port,
                   MAIL_SUPPRESS_SEND=False)  # fmt: skip
    client = app.test_client()
    rv = ask_for_reset(client, "nobody@school.example.com")
    assert rv.headers["Location"] == "/login"  # the same answer as for a real account
    assert flashes(client.get("/login")) == [
        "If nobody@school.example.com has an account, a reset link is on its way."
    ]
    assert smtp_server.messages == []


def test_reset_with_the_mail_server_down_says_so(make_app):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_SUPPRESS_SEND=False)
    client = app.test_client()
    rv = ask_for_reset(client, "student@school.example.com")
    assert rv.status_code == 503
    assert flashes(rv) == ["We could not send the e-mail just now. Try again later."]


def test_reset_request_bad_input(client):
    rv = ask_for_reset(client, "not mail")
    assert rv.status_code == 400
    assert flashes(rv) == ["That is not an e-mail address."]


def signed_ago(key: str, seconds: int, value: str) -> str:
    """A reset token as the app makes them, dated ``seconds`` ago."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - seconds

    return URLSafeTimedSerializer(key, salt="password-reset", signer=Earlier).dumps(value)


@pytest.mark.parametrize(
    "key, age, message",
    [
        ("dev-only-secret-change-me", 3601, "This reset link has expired. Ask for a new one."),
        ("another key", 0, "This reset link is not valid. Ask for a new one."),
    ],
)
def test_expired_or_forged_reset_link_is_refused(client, app, key, age, message):
    with app.app_context():
        uid = user_datastore.find_user(email="student@school.example.com").fs_uniquifier
    rv = client.get(f"/reset/{signed_ago(key, age, uid)}", follow_redirects=True)
    assert flashes(rv) == [message]
    assert client.get("/reset/garbage", follow_redirects=True).status_code == 200


def test_reset_link_within_the_hour_works(client, app):
    with app.app_context():
        uid = user_datastore.find_user(email="student@school.example.com").fs_uniquifier
    assert client.get(f"/reset/{signed_ago(app.secret_key, 3500, uid)}").status_code == 200


def test_mail_is_printed_without_a_mail_server(client, capsys):
    rv = ask_for_reset(client, "teacher@school.example.com")
    assert rv.status_code == 302
    out = capsys.readouterr().out
    assert "--- mail to teacher@school.example.com (not sent: no MAIL_SERVER) ---" in out
    assert "http://localhost/reset/" in out


def test_unknown_page_is_404(client):
    rv = client.get("/nowhere")
    assert rv.status_code == 404 and "There is no such page." in rv.text
