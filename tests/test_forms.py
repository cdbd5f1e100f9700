"""erlen.forms' FlaskForm and file fields, with Flask-WTF on real Flask as the oracle."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
import warnings

import flask
import flask_wtf
import flask_wtf.file
import itsdangerous.timed
import pytest
import wtforms
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired

import erlen
from erlen.forms import (
    CSRFProtect,
    FileAllowed,
    FileField,
    FileRequired,
    FileSize,
    FlaskForm,
    Form,
    MultipleFileField,
)
from erlen.http.filestorage import FileStorage
from test_serving import ERLEN, free_port, servers  # noqa: F401 (servers: a fixture)


class NameForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired()])
    age = IntegerField("Age")


def _form_app(form_cls=NameForm, **config) -> erlen.Erlen:
    app = erlen.Erlen("test_forms")
    app.config.update(TESTING=True, SECRET_KEY="test key", **config)

    @app.route("/", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def index():
        form = form_cls()
        if form.validate_on_submit():
            return {"data": {k: v for k, v in form.data.items() if k != "csrf_token"}}
        return {"submitted": form.is_submitted(), "errors": form.errors, "tag": form.hidden_tag()}

    return app


def _token(client) -> str:
    tag = client.get("/").get_json()["tag"]
    return re.search(r'value="([^"]+)"', tag).group(1)


def test_form_reads_request_form_and_validates_csrf():
    client = _form_app().test_client()
    assert client.get("/").get_json()["submitted"] is False
    token = _token(client)
    r = client.post("/", data={"name": "Ada", "age": "36", "csrf_token": token})
    assert r.get_json() == {"data": {"name": "Ada", "age": 36}}
    r = client.post("/", data={"name": "Ada"})
    assert r.status_code == 200  # no CSRFProtect: the form reports, the view decides
    assert r.get_json()["errors"] == {"csrf_token": ["The CSRF token is missing."]}
    r = client.post("/", data={"csrf_token": token})
    assert r.get_json()["errors"] == {"name": ["This field is required."]}


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_submit_methods(method):
    client = _form_app(WTF_CSRF_ENABLED=False).test_client()
    r = client.open("/", method=method, data={"name": "Ada"})
    assert r.get_json() == {"data": {"name": "Ada", "age": None}}


def test_json_body_is_form_data():
    client = _form_app().test_client()
    token = _token(client)
    r = client.post("/", json={"name": "Ada", "age": 36, "csrf_token": token})
    assert r.get_json() == {"data": {"name": "Ada", "age": 36}}


def test_json_body_that_is_not_an_object_is_a_400():
    client = _form_app(WTF_CSRF_ENABLED=False).test_client()
    r = client.post("/", json=["name", "Ada"])
    assert r.status_code == 400
    assert "JSON body must be an object" in r.get_data(as_text=True)


def test_csrf_disabled_by_meta_and_config():
    class NoCsrf(NameForm):
        class Meta:
            csrf = False

    client = _form_app(NoCsrf).test_client()
    assert client.get("/").get_json()["tag"] == ""
    assert client.post("/", data={"name": "x"}).get_json() == {"data": {"name": "x", "age": None}}
    client = _form_app(WTF_CSRF_ENABLED=False).test_client()
    assert client.post("/", data={"name": "x"}).get_json()["data"]["name"] == "x"


def test_form_trusts_csrfprotect_and_bearer():
    app = _form_app()
    CSRFProtect(app)
    client = app.test_client()
    token = _token(client)
    # CSRFProtect read the token from the header; the form does not ask again
    r = client.post("/", data={"name": "Ada"}, headers={"X-CSRFToken": token})
    assert r.get_json() == {"data": {"name": "Ada", "age": None}}
    bare = app.test_client(use_cookies=False)
    r = bare.post("/", json={"name": "Bob"}, headers={"Authorization": "Bearer t0k3n"})
    assert r.get_json() == {"data": {"name": "Bob", "age": None}}


def test_expired_token_in_form(monkeypatch):
    client = _form_app(WTF_CSRF_TIME_LIMIT=60).test_client()
    monkeypatch.setattr(
        itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 120
    )
    token = _token(client)
    monkeypatch.undo()
    r = client.post("/", data={"name": "Ada", "csrf_token": token})
    assert r.get_json()["errors"] == {"csrf_token": ["The CSRF token has expired."]}


def test_prefixed_forms_and_custom_field_name():
    app = erlen.Erlen("prefix")
    app.config.update(TESTING=True, SECRET_KEY="k", WTF_CSRF_FIELD_NAME="_csrf")

    @app.route("/", methods=["GET", "POST"])
    def index():
        form = NameForm(prefix="a")
        if form.validate_on_submit():
            return form.name.data
        return form.hidden_tag()

    client = app.test_client()
    tag = client.get("/").get_data(as_text=True)
    assert tag.startswith('<input id="a-_csrf" name="a-_csrf" type="hidden" value="')
    token = re.search(r'value="([^"]+)"', tag).group(1)
    assert client.post("/", data={"a-name": "Ada", "a-_csrf": token}).get_data() == b"Ada"


def test_hidden_tag_selects_hidden_fields():
    class WithHidden(NameForm):
        ref = wtforms.HiddenField(default="r1")

    app = _form_app()
    with app.test_request_context():
        form = WithHidden()
        tag = form.hidden_tag()
        assert isinstance(tag, erlen.Markup)
        lines = tag.split("\n")
        assert len(lines) == 2 and 'name="csrf_token"' in lines[1]
        assert lines[0] == '<input id="ref" name="ref" type="hidden" value="r1">'
        assert form.hidden_tag("ref", "name", "missing") == lines[0]
        assert form.hidden_tag(form.name) == ""


def test_hidden_tag_same_as_flask_wtf(monkeypatch):
    monkeypatch.setattr(
        itsdangerous.timed.TimestampSigner, "get_timestamp", lambda self: 1_700_000_000
    )
    raw = "ab" * 20

    class FName(flask_wtf.FlaskForm):
        name = StringField("Name", validators=[DataRequired()])
        ref = wtforms.HiddenField(default="r1")

    class EName(FlaskForm):
        name = StringField("Name", validators=[DataRequired()])
        ref = wtforms.HiddenField(default="r1")

    fapp = flask.Flask("oracle")
    fapp.config.update(SECRET_KEY="test key")
    with fapp.test_request_context():
        flask.session["csrf_token"] = raw
        f = FName()
        want = (str(f.hidden_tag()), str(f.csrf_token), f.csrf_token.name, str(f.name))
    app = _form_app()
    with app.test_request_context():
        erlen.session["csrf_token"] = raw
        e = EName()
        got = (str(e.hidden_tag()), str(e.csrf_token), e.csrf_token.name, str(e.name))
    assert got == want


def test_form_errors_same_as_flask_wtf():
    class FName(flask_wtf.FlaskForm):
        name = StringField("Name", validators=[DataRequired()])

    fapp = flask.Flask("oracle")
    fapp.config.update(SECRET_KEY="test key")
    with fapp.test_request_context(method="POST", data={"name": ""}):
        f = FName()
        assert f.validate_on_submit() is False
        want = f.errors
    app = _form_app()
    with app.test_request_context(method="POST", data={"name": ""}):
        e = NameForm()
        assert e.validate_on_submit() is False
        assert e.errors == want
        assert want == {
            "name": ["This field is required."],
            "csrf_token": ["The CSRF token is missing."],
        }


def test_form_alias_is_wtforms_form_as_in_flask_wtf():
    assert Form is wtforms.Form is flask_wtf.Form
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Form()  # no deprecation warning, as Flask-WTF 1.x


def test_import_erlen_does_not_import_wtforms():
    code = "import sys, erlen; print('wtforms' in sys.modules, 'erlen.forms' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# -- files ----------------------------------------------------------------------------------


class UploadSet:
    """An upload-set-like object (Flask-Uploads' interface): decides by file name."""

    def file_allowed(self, storage, basename: str) -> bool:
        return basename.endswith(".txt")


class UploadForm(FlaskForm):
    class Meta:
        csrf = False

    photo = FileField(validators=[FileRequired(), FileAllowed(["png", "JPG"]), FileSize(10, 2)])
    doc = FileField(validators=[FileAllowed(UploadSet(), "text files only")])
    many = MultipleFileField(validators=[FileAllowed(["png"])])


@pytest.fixture
def upload_client():
    app = erlen.Erlen("uploads")
    app.config.update(TESTING=True, SECRET_KEY="k")

    @app.route("/", methods=["POST"])
    def index():
        form = UploadForm()
        if form.validate_on_submit():
            photo = form.photo.data
            assert isinstance(photo, FileStorage)
            many = form.many.data or []
            return {
                "photo": [photo.filename, photo.read().decode()],
                "doc": form.doc.data.filename if form.doc.data else None,
                "many": [f.filename for f in many],
            }
        return {"errors": form.errors}, 422

    return app.test_client()


def _file(data: bytes, name: str):
    return (io.BytesIO(data), name)


def test_upload_ok(upload_client):
    r = upload_client.post(
        "/",
        data={
            "photo": _file(b"12345", "Cat.PNG"),
            "doc": _file(b"notes", "a.txt"),
            "many": [_file(b"1", "a.png"), _file(b"2", "b.png")],
        },
    )
    assert r.get_json() == {
        "photo": ["Cat.PNG", "12345"],
        "doc": "a.txt",
        "many": ["a.png", "b.png"],
    }


def test_upload_required(upload_client):
    r = upload_client.post("/", data={"photo": _file(b"", "")})  # an empty file input
    assert r.status_code == 422
    assert r.get_json()["errors"] == {"photo": ["This field is required."]}
    r = upload_client.post("/", data={"photo": "just text"})
    assert r.get_json()["errors"] == {"photo": ["This field is required."]}


def test_upload_extension_and_upload_set(upload_client):
    r = upload_client.post(
        "/",
        data={
            "photo": _file(b"12345", "cat.gif"),
            "doc": _file(b"x", "a.exe"),
            "many": [_file(b"1", "a.png"), _file(b"2", "b.exe")],
        },
    )
    assert r.get_json()["errors"] == {
        "photo": ["File does not have an approved extension: png, JPG"],
        "doc": ["text files only"],
        "many": ["File does not have an approved extension: png"],
    }


def test_upload_size(upload_client):
    big = upload_client.post("/", data={"photo": _file(b"x" * 11, "a.jpg")})
    small = upload_client.post("/", data={"photo": _file(b"x", "a.jpg")})
    edge = upload_client.post("/", data={"photo": _file(b"x" * 10, "a.jpg")})
    message = ["File must be between 2 and 10 bytes."]
    assert big.get_json()["errors"] == {"photo": message}
    assert small.get_json()["errors"] == {"photo": message}
    assert edge.get_json()["photo"] == ["a.jpg", "x" * 10]  # the stream was rewound


def test_file_messages_same_as_flask_wtf():
    from werkzeug.datastructures import FileStorage as WerkzeugFileStorage

    class FUpload(flask_wtf.FlaskForm):
        class Meta:
            csrf = False

        photo = flask_wtf.file.FileField(
            validators=[
                flask_wtf.file.FileRequired(),
                flask_wtf.file.FileAllowed(["png", "JPG"]),
                flask_wtf.file.FileSize(10, 2),
            ]
        )

    class EUpload(FlaskForm):
        class Meta:
            csrf = False

        photo = FileField(validators=[FileRequired(), FileAllowed(["png", "JPG"]), FileSize(10, 2)])

    fapp = flask.Flask("oracle")
    app = _form_app()
    for data, name in [(b"", ""), (b"1234", "a.gif"), (b"x" * 20, "a.png")]:
        fdata = {"photo": WerkzeugFileStorage(io.BytesIO(data), name)} if name else {}
        with fapp.test_request_context(method="POST", data=fdata or {"photo": ""}):
            f = FUpload()
            f.validate()
            want = f.errors
        with app.test_request_context(method="POST", data={"photo": (io.BytesIO(data), name)}):
            e = EUpload()
            e.validate()
            assert e.errors == want, name


# -- end to end: a real server and real Chromium ---------------------------------------------

BROWSER_APP = """
from erlen import Erlen, render_template_string
from erlen.forms import CSRFProtect, FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired

app = Erlen(__name__)
app.config["SECRET_KEY"] = "browser test"
CSRFProtect(app)

class NoteForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired()])

PAGE = '''<!doctype html><title>note</title>
<form method="post">{{ form.hidden_tag() }}{{ form.title() }}<button type="submit">Save</button>
</form>'''

@app.route("/", methods=["GET", "POST"])
def index():
    form = NoteForm()
    if form.validate_on_submit():
        return render_template_string("<p id=saved>saved {{ t }}</p>", t=form.title.data)
    return render_template_string(PAGE, form=form)
"""


def test_form_in_real_chromium(tmp_path, servers):  # noqa: F811 (the fixture)
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    playwright_sync = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(chromium):
        pytest.skip("Debian chromium is not installed")
    (tmp_path / "app.py").write_text(BROWSER_APP)
    port = free_port()
    server = servers([ERLEN, "--app", "app.py", "run", "--no-debug", "--port", str(port)], tmp_path)
    server.wait_port(port)
    base = f"http://127.0.0.1:{port}/"
    with playwright_sync.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            page.goto(base)
            page.fill("input[name=title]", "from Chromium")
            with page.expect_navigation():
                page.click("button[type=submit]")
            assert page.locator("#saved").inner_text() == "saved from Chromium"
            # again, with the hidden token removed from the page before submitting
            response = page.goto(base)
            assert response is not None and response.status == 200
            page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
            page.fill("input[name=title]", "forged")
            with page.expect_navigation() as nav:
                page.click("button[type=submit]")
            assert nav.value is not None and nav.value.status == 400
            assert "The CSRF token is missing." in page.content()
        finally:
            browser.close()
    assert "400 POST '/': The CSRF token is missing." in server.output()


def test_form_token_signed_with_fallback_key():
    app = _form_app()
    client = app.test_client()
    token = _token(client)
    app.config.update(SECRET_KEY="rotated", SECRET_KEY_FALLBACKS=["test key"])
    r = client.post("/", data={"name": "Ada", "csrf_token": token})
    assert r.get_json() == {"data": {"name": "Ada", "age": None}}
    app.config["WTF_CSRF_SECRET_KEY"] = "separate"  # a CSRF-only key has no fallbacks
    r = client.post("/", data={"name": "Ada", "csrf_token": token})
    assert r.get_json()["errors"] == {"csrf_token": ["The CSRF token is invalid."]}


def test_token_is_signed_only_when_rendered():
    app = _form_app()
    with app.test_request_context(method="POST", data={"name": "x"}):
        form = NameForm()
        assert "csrf_token" not in erlen.session  # nothing signed yet
        token = form.csrf_token.current_token
        assert erlen.session["csrf_token"] and f'value="{token}"' in form.hidden_tag()


def test_werkzeug_file_storage_is_an_upload():
    """Code and tests written for Flask hand the fields Werkzeug's FileStorage: any object
    with its interface is an upload (duck typing), one without a file name is none."""
    from werkzeug.datastructures import FileStorage as WFS
    from werkzeug.datastructures import MultiDict

    class F(FlaskForm):
        class Meta:
            csrf = False

        one = FileField(validators=[FileRequired(), FileAllowed(["txt"]), FileSize(10, 1)])
        many = MultipleFileField(validators=[FileAllowed(["txt"])])

    with _form_app().test_request_context():
        f = F(MultiDict([("one", WFS(io.BytesIO(b"abc"), "a.txt")), ("many", WFS())]))
        assert f.one.data.filename == "a.txt" and f.many.data is None
        assert f.validate(), f.errors
        assert f.one.data.stream.tell() == 0  # measured by seeking, rewound
        f = F(one=WFS(filename="a.txt"), many=[WFS(filename="b.txt"), WFS(filename="c.png")])
        assert not f.validate()
        assert f.errors == {
            "one": ["File must be between 1 and 10 bytes."],
            "many": ["File does not have an approved extension: txt"],
        }
        f = F(one=WFS())  # an empty file input
        assert not f.validate() and f.errors == {"one": ["This field is required."]}


def test_file_size_of_a_stream_that_cannot_seek_is_a_type_error():
    class Pipe:
        def read(self, size: int = -1) -> bytes:
            return b"data"

        def seekable(self) -> bool:
            return False

    class F(FlaskForm):
        class Meta:
            csrf = False

        one = FileField(validators=[FileSize(100)])

    with _form_app().test_request_context():
        f = F(one=FileStorage(Pipe(), "a.txt"))  # type: ignore[arg-type]
        with pytest.raises(TypeError, match="not seekable"):
            f.validate()
