"""The charts example through the test client: the JSON series, the PNG, bad input."""

from __future__ import annotations

import pytest

from .app import MAX_MONTHS, create_app


@pytest.fixture
def client():
    return create_app().test_client()


def test_page_loads_chart_js_from_this_app(client):
    r = client.get("/")
    assert r.status_code == 200
    html = r.text
    assert '<script src="/static/vendor/chart.umd.js">' in html
    assert "cdn" not in html.lower() and "https://" not in html
    js = client.get("/static/vendor/chart.umd.js")  # vendored by make install
    assert js.status_code == 200 and b"Chart" in js.data[:2000]


def test_sales_json(client):
    r = client.get("/api/sales?months=3")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json"
    assert r.get_json() == {
        "labels": ["Jan 2025", "Feb 2025", "Mar 2025"],
        "values": [100.0, 119.0, 134.0],
    }
    assert len(client.get("/api/sales").get_json()["values"]) == 12


def test_png_is_a_real_png(client):
    r = client.get("/chart.png?months=6")
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    assert r.data.startswith(b"\x89PNG\r\n\x1a\n") and len(r.data) > 5000


@pytest.mark.parametrize("months", ["0", str(MAX_MONTHS + 1), "abc", "-3", "1.5", "9" * 400])
@pytest.mark.parametrize("path", ["/api/sales", "/chart.png"])
def test_bad_months_is_a_clear_400(client, path, months):
    r = client.get(path, query_string={"months": months})
    assert r.status_code == 400
    assert r.get_json() == {"error": f"months must be a whole number from 1 to {MAX_MONTHS}."}
