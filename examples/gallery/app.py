"""A picture gallery: upload, list, view and download images.

- uploads are limited by ``MAX_CONTENT_LENGTH`` (a bigger one gets a 413 page saying the limit);
- the type is checked by the file's content (its first bytes: PNG, JPEG, GIF, WebP), not by its
  name, and the stored name gets the extension of what the file really is;
- names go through ``secure_filename``; files live in the instance folder and are served with
  ``send_from_directory`` (which refuses paths leaving the folder);
- thumbnails are made with Pillow when it is installed (it is optional: without it the
  gallery shows the pictures themselves, scaled by the browser).

Run it with ``make example NAME=gallery``.
"""

from __future__ import annotations

import argparse
import os

from wtforms.validators import StopValidation

from erlen import Flask, current_app, flash, redirect, render_template, send_from_directory, url_for
from erlen.forms import CSRFError, CSRFProtect, FileField, FileRequired, FlaskForm
from erlen.utils import secure_filename

try:  # optional: thumbnails
    from PIL import Image
except ImportError:  # pragma: no cover - depends on the machine
    Image = None

#: the types accepted, by their first bytes -> the extension they are stored with
SIGNATURES = [(b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8\xff", "jpg"), (b"GIF87a", "gif"),
              (b"GIF89a", "gif")]  # fmt: skip
THUMB_SIZE = (320, 320)

csrf = CSRFProtect()


def sniff(head: bytes) -> str | None:
    """The extension for what the bytes really are, or None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return next((ext for magic, ext in SIGNATURES if head.startswith(magic)), None)


def is_image(form, field) -> None:
    head = field.data.stream.read(16)
    field.data.stream.seek(0)
    field.kind = sniff(head)
    if field.kind is None:
        raise StopValidation("That file is not a PNG, JPEG, GIF or WebP picture.")


class UploadForm(FlaskForm):
    picture = FileField("Picture", validators=[FileRequired("Choose a picture."), is_image])


def folder(name: str) -> str:
    path = os.path.join(current_app.instance_path, name)
    os.makedirs(path, exist_ok=True)
    return path


def free_name(directory: str, stem: str, ext: str) -> str:
    name, n = f"{stem}.{ext}", 1
    while os.path.exists(os.path.join(directory, name)):
        n += 1
        name = f"{stem}-{n}.{ext}"
    return name


def make_thumbnail(name: str) -> None:
    if Image is None:
        return
    try:
        with Image.open(os.path.join(folder("pictures"), name)) as im:
            im.thumbnail(THUMB_SIZE)
            im.convert("RGB").save(os.path.join(folder("thumbs"), name + ".jpg"), "JPEG")
    except (OSError, ValueError, Image.DecompressionBombError):  # a broken picture: no thumb
        current_app.logger.warning("no thumbnail for %s: not a readable picture", name)


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("GALLERY_INSTANCE_PATH") or None)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("GALLERY_SECRET_KEY", "dev-only-secret-change-me"),
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
    )
    if test_config:
        app.config.update(test_config)
    csrf.init_app(app)

    @app.route("/")
    def index():
        pictures = sorted(os.listdir(folder("pictures")))
        thumbs = set(os.listdir(folder("thumbs")))
        return render_template("index.html", form=UploadForm(), pictures=pictures,
                               thumbs=thumbs)  # fmt: skip

    @app.post("/upload")
    def upload():
        form = UploadForm()
        if not form.validate_on_submit():
            for errors in form.errors.values():
                for error in errors:
                    flash(error, "error")
            return redirect(url_for("index"))
        stem = secure_filename(os.path.splitext(form.picture.data.filename or "")[0]) or "picture"
        name = free_name(folder("pictures"), stem, form.picture.kind)
        form.picture.data.save(os.path.join(folder("pictures"), name))
        make_thumbnail(name)
        flash(f"Uploaded {name}.", "success")
        return redirect(url_for("index"))

    @app.get("/pictures/<path:name>")
    def picture(name: str):
        return send_from_directory(folder("pictures"), name)

    @app.get("/pictures/<path:name>/download")
    def download(name: str):
        return send_from_directory(folder("pictures"), name, as_attachment=True)

    @app.get("/thumbs/<path:name>")
    def thumb(name: str):
        return send_from_directory(folder("thumbs"), name)

    def error_page(status: int, title: str, message: str):
        return render_template("error.html", title=title, message=message), status

    @app.errorhandler(413)
    def too_large(e):
        limit = app.config["MAX_CONTENT_LENGTH"]
        size = f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit // 1024} KiB"
        return error_page(413, "Too large", f"Pictures can be at most {size}.")

    @app.errorhandler(CSRFError)
    def csrf_failed(e):
        return error_page(400, "Form not accepted",
                          f"{e.description} Reload the page and try again.")  # fmt: skip

    app.register_error_handler(404, lambda e: error_page(404, "Not found", "No such picture."))
    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the gallery example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    create_app().run(host=args.host, port=args.port)
