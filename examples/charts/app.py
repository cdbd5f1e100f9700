"""Charts: a Chart.js page fed by a JSON endpoint, and the same data as a PNG drawn on the
server by matplotlib.

Chart.js comes from the npm registry at build time (`make install` runs
scripts/vendor_npm.py, which checks its sha512 and puts it in static/vendor/); the page loads
it from this app, never from a CDN.
"""

from __future__ import annotations

import argparse
import io
import math
import os

from erlen import Erlen, abort, jsonify, render_template, request, send_file

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MAX_MONTHS = 24


def sales(months: int) -> tuple[list[str], list[float]]:
    """A made-up but stable series: a seasonal curve over a rising trend."""
    labels = [f"{MONTHS[i % 12]} {2025 + i // 12}" for i in range(months)]
    values = [round(100 + 4 * i + 30 * math.sin(i / 12 * 2 * math.pi), 1) for i in range(months)]
    return labels, values


def months_arg() -> int:
    """``?months=`` as a whole number 1..24 (default 12); anything else is a clear 400."""
    raw = request.args.get("months", "12")
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_MONTHS:
        abort(400, description=f"months must be a whole number from 1 to {MAX_MONTHS}.")
    return int(raw)


def create_app() -> Erlen:
    app = Erlen(__name__)

    @app.errorhandler(400)
    def bad_request(e):
        return jsonify(error=e.description), 400

    @app.get("/")
    def index() -> str:
        return render_template(
            "index.html",
            vendored=os.path.exists(
                os.path.join(app.static_folder or "", "vendor", "chart.umd.js")
            ),
        )

    @app.get("/api/sales")
    def api_sales():
        labels, values = sales(months_arg())
        return {"labels": labels, "values": values}

    @app.get("/chart.png")
    def chart_png():
        months = months_arg()
        import matplotlib

        matplotlib.use("Agg")  # no display: render to memory
        from matplotlib.figure import Figure

        labels, values = sales(months)
        fig = Figure(figsize=(6, 3), dpi=100)
        ax = fig.subplots()
        ax.plot(range(months), values, marker="o", color="#3366cc")
        ax.set_xticks(range(months), labels, rotation=45, ha="right", fontsize=7)
        ax.set_ylabel("sales")
        ax.set_title(f"Sales, last {months} months")
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        buf.seek(0)
        return send_file(buf, mimetype="image/png", max_age=0)

    return app


app = create_app()

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the charts example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    app.run(host=args.host, port=args.port)
