"""The ML example through the test client: training at first start, the form, the JSON API."""

from __future__ import annotations

import json
import logging

import joblib
import pytest

from .app import FEATURES, create_app

SETOSA = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
VIRGINICA = {"sepal_length": 6.9, "sepal_width": 3.1, "petal_length": 5.8, "petal_width": 2.2}


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return tmp_path_factory.mktemp("ml-instance") / "iris-model.joblib"


@pytest.fixture
def app(model_path):
    return create_app({"TESTING": True, "MODEL_PATH": str(model_path)})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def no_csrf_client(model_path):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False, "MODEL_PATH": str(model_path)})
    return app.test_client()


def test_first_start_trains_and_saves_then_later_starts_load(tmp_path):
    path = tmp_path / "instance" / "iris-model.joblib"
    create_app({"MODEL_PATH": str(path)})
    bundle = joblib.load(path)
    assert bundle["species"] == ["setosa", "versicolor", "virginica"]
    assert bundle["accuracy"] > 0.9 and bundle["test_size"] == 30
    written = path.stat().st_mtime_ns
    app = create_app({"MODEL_PATH": str(path)})
    assert path.stat().st_mtime_ns == written  # loaded, not retrained
    assert app.extensions["iris_model"]["accuracy"] == bundle["accuracy"]
    assert [p.name for p in path.parent.iterdir()] == ["iris-model.joblib"]  # no temp file left


def test_model_from_another_sklearn_version_is_retrained(tmp_path):
    path = tmp_path / "iris-model.joblib"
    joblib.dump({"sklearn_version": "0.1", "model": None}, path)
    app = create_app({"MODEL_PATH": str(path)})
    assert app.extensions["iris_model"]["model"] is not None
    assert joblib.load(path)["sklearn_version"] != "0.1"


def test_form_page_shows_accuracy_and_csrf_field(client):
    rv = client.get("/")
    assert rv.status_code == 200
    html = rv.get_data(as_text=True)
    assert "on 30 flowers it never saw" in html
    assert 'name="csrf_token"' in html
    for name in FEATURES:
        assert f'name="{name}"' in html and 'type="number"' in html


def test_form_predicts(no_csrf_client):
    rv = no_csrf_client.post("/", data={k: str(v) for k, v in SETOSA.items()})
    assert rv.status_code == 200
    assert '<em id="species">setosa</em>' in rv.get_data(as_text=True)
    rv = no_csrf_client.post("/", data={k: str(v) for k, v in VIRGINICA.items()})
    assert '<em id="species">virginica</em>' in rv.get_data(as_text=True)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "Enter a number in centimetres, e.g. 5.1 (got &#39;abc&#39;)."),
        ("", "Enter a measurement."),
        ("-1", "Enter a value between 0 and 10 cm."),
        ("10.5", "Enter a value between 0 and 10 cm."),
        ("nan", "Enter a value between 0 and 10 cm."),
        ("inf", "Enter a value between 0 and 10 cm."),
    ],
)
def test_form_bad_input_is_a_400_with_one_message(no_csrf_client, value, message, caplog):
    data = {k: str(v) for k, v in SETOSA.items()} | {"petal_width": value}
    with caplog.at_level(logging.WARNING):
        rv = no_csrf_client.post("/", data=data)
    assert rv.status_code == 400
    html = rv.get_data(as_text=True)
    assert html.count('class="error"') == 1
    assert f'<p class="error" id="petal_width-error">{message}</p>' in html
    assert 'id="species"' not in html
    assert f'value="{value}"' in html  # what was typed is shown again
    assert [r.getMessage() for r in caplog.records] == ["form rejected: ['petal_width']"]


def test_form_missing_field_and_no_csrf_token(client):
    rv = client.post("/", data={"sepal_length": "5"})
    assert rv.status_code == 400
    html = rv.get_data(as_text=True)
    assert '<p class="error" id="csrf-error">The CSRF token is missing.</p>' in html
    assert html.count("Enter a measurement.") == 3


def test_api_predicts(client):
    rv = client.post("/api/predict", json=SETOSA)
    assert rv.status_code == 200
    assert rv.json["species"] == "setosa"
    assert set(rv.json["probabilities"]) == {"setosa", "versicolor", "virginica"}
    assert abs(sum(rv.json["probabilities"].values()) - 1) < 0.01
    assert client.post("/api/predict", json=VIRGINICA).json["species"] == "virginica"
    assert client.post("/api/predict", json=SETOSA | {"petal_width": 1}).status_code == 200


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ([1, 2, 3, 4], {"_": "the body must be a JSON object with the four measurements"}),
        ("setosa", {"_": "the body must be a JSON object with the four measurements"}),
        ({}, dict.fromkeys(FEATURES, "missing")),
        (SETOSA | {"petal_width": "0.2"}, {"petal_width": "must be a number, got str"}),
        (SETOSA | {"petal_width": True}, {"petal_width": "must be a number, got bool"}),
        (SETOSA | {"petal_width": None}, {"petal_width": "must be a number, got NoneType"}),
        (SETOSA | {"petal_width": [0.2]}, {"petal_width": "must be a number, got list"}),
        (SETOSA | {"petal_width": -0.1}, {"petal_width": "must be between 0 and 10 (cm)"}),
        (SETOSA | {"petal_width": 1e308 * 10}, {"petal_width": "must be between 0 and 10 (cm)"}),
        (SETOSA | {"colour": "blue"}, {"colour": "unknown field"}),
    ],
)
def test_api_bad_input_is_a_400_naming_the_fields(client, body, fields, caplog):
    with caplog.at_level(logging.WARNING):
        rv = client.post("/api/predict", json=body)
    assert rv.status_code == 400
    assert rv.json == {"error": "invalid input", "fields": fields}
    assert len(caplog.records) == 1


def test_api_nan_in_json_is_refused(client):
    rv = client.post(
        "/api/predict",
        data=json.dumps(SETOSA).replace("0.2", "NaN"),
        content_type="application/json",
    )
    assert rv.status_code == 400
    assert rv.json["fields"] == {"petal_width": "must be between 0 and 10 (cm)"}


def test_api_not_json(client):
    rv = client.post("/api/predict", data=SETOSA)
    assert rv.status_code == 415
    assert rv.json == {"error": "send a JSON object with Content-Type: application/json"}
    rv = client.post("/api/predict", data="{not json", content_type="application/json")
    assert rv.status_code == 400
    assert rv.json == {"error": "the body is not valid JSON"}


def test_api_too_large_wrong_method_and_unknown_path_answer_json(client):
    rv = client.post(
        "/api/predict", data="[" + "1," * 20000 + "1]", content_type="application/json"
    )
    assert rv.status_code == 413 and "error" in rv.json
    rv = client.get("/api/predict")
    assert rv.status_code == 405 and "not allowed" in rv.json["error"]
    rv = client.get("/api/nothing")
    assert rv.status_code == 404 and "error" in rv.json
    rv = client.get("/nothing")
    assert rv.status_code == 404 and b"<h1>404 Not Found</h1>" in rv.data
