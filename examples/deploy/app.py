"""A small app as deployed: gunicorn (WSGI) or uvicorn (ASGI) behind nginx, which serves
/static/ itself and forwards the rest with X-Forwarded-* headers. ``ProxyFix`` trusts one
proxy hop, so ``request.url``, ``request.scheme`` and ``request.remote_addr`` are the
client's, not nginx's (never trust those headers without a proxy that sets them)."""

from __future__ import annotations

import argparse

from erlen import Erlen, request, url_for
from erlen.wsgi import ProxyFix

app = Erlen(__name__)
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]


@app.get("/")
def index() -> dict[str, str]:
    return {
        "url": request.url,
        "scheme": request.scheme,
        "remote_addr": request.remote_addr or "",
        "stylesheet": url_for("static", filename="site.css", _external=True),
    }


@app.get("/health")
def health() -> str:
    return "ok"


if __name__ == "__main__":  # development only; production: see Procfile / Dockerfile
    parser = argparse.ArgumentParser(description="Run the deploy example (development).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    app.run(host=args.host, port=args.port)
