"""erlen ML example: an iris classifier behind an HTML form and a JSON endpoint.

At first start the app trains a small scikit-learn model on the iris data set (it ships with
scikit-learn: nothing is downloaded) and saves it in the instance folder with joblib; later
starts load that file. Written as a Flask app would be, with ``erlen`` imported instead of
``flask``. Run it with ``make example NAME=ml`` (or ``python app.py --port 5000``).

joblib files are pickles: loading one runs code it contains. This app only ever loads the
file it wrote itself into its own instance folder; never point ``MODEL_PATH`` at a model
file from somewhere you don't control (skops.io is the format for models you are sent).
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path
from typing import Any

import joblib
import sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from wtforms import FloatField
from wtforms.validators import InputRequired, NumberRange, StopValidation
from wtforms.widgets import NumberInput

from erlen import Flask, current_app, jsonify, render_template, request
from erlen.exceptions import HTTPException
from erlen.forms import FlaskForm

HERE = Path(__file__).resolve().parent

# name in the form and in the JSON body -> label; the order is the model's feature order
FEATURES = {
    "sepal_length": "Sepal length (cm)",
    "sepal_width": "Sepal width (cm)",
    "petal_length": "Petal length (cm)",
    "petal_width": "Petal width (cm)",
}
LOW, HIGH = 0.0, 10.0  # iris measurements are 0.1–7.9 cm; far outside is a typo


def train(path: Path) -> dict[str, Any]:
    """Fit the model on 80 % of iris, score it on the rest, save it with joblib."""
    iris = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        iris.data, iris.target, test_size=0.2, random_state=0, stratify=iris.target
    )
    model = LogisticRegression(max_iter=1000).fit(x_train, y_train)
    bundle = {
        "model": model,
        "species": [str(name) for name in iris.target_names],
        "accuracy": float(model.score(x_test, y_test)),
        "test_size": len(y_test),
        "sklearn_version": sklearn.__version__,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump(bundle, tmp)
    tmp.replace(path)  # atomic: a second process never loads half a file
    return bundle


def load_or_train(path: Path) -> dict[str, Any]:
    """The saved model (our own file, see the module docstring), or a new one."""
    if path.exists():
        bundle = joblib.load(path)
        if bundle.get("sklearn_version") == sklearn.__version__:
            return bundle
        # pickles are only safe to load with the version that wrote them: retrain
    return train(path)


def predict(values: list[float]) -> dict[str, Any]:
    bundle = current_app.extensions["iris_model"]
    probabilities = bundle["model"].predict_proba([values])[0]
    best = int(probabilities.argmax())
    return {
        "species": bundle["species"][best],
        "probabilities": {
            name: round(float(p), 4)
            for name, p in zip(bundle["species"], probabilities, strict=True)
        },
    }


class Measurement(FloatField):
    """A float field whose non-number message says what to type."""

    widget = NumberInput(step="any", min=LOW, max=HIGH)

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = float(valuelist[0])
        except ValueError:
            self.data = None
            raise ValueError(f"Enter a number in centimetres, e.g. 5.1 (got {valuelist[0]!r}).")

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:  # not a number: the range check would only repeat it
            raise StopValidation()


def measurement(label: str) -> Measurement:
    return Measurement(
        label,
        validators=[
            InputRequired("Enter a measurement."),
            NumberRange(LOW, HIGH, f"Enter a value between {LOW:g} and {HIGH:g} cm."),
        ],
    )


class IrisForm(FlaskForm):
    sepal_length = measurement(FEATURES["sepal_length"])
    sepal_width = measurement(FEATURES["sepal_width"])
    petal_length = measurement(FEATURES["petal_length"])
    petal_width = measurement(FEATURES["petal_width"])


def check_api_input(data: Any) -> tuple[list[float], dict[str, str]]:
    """The four measurements of a JSON body, or an error message per field."""
    if not isinstance(data, dict):
        return [], {"_": "the body must be a JSON object with the four measurements"}
    errors = {}
    values = []
    for name in FEATURES:
        value = data.get(name)
        if name not in data:
            errors[name] = "missing"
        elif isinstance(value, bool) or not isinstance(value, int | float):
            errors[name] = f"must be a number, got {type(value).__name__}"
        elif not math.isfinite(value) or not LOW <= value <= HIGH:
            errors[name] = f"must be between {LOW:g} and {HIGH:g} (cm)"
        else:
            values.append(float(value))
    for name in data.keys() - FEATURES.keys():
        errors[str(name)] = "unknown field"
    return values, errors


def create_app(test_config: dict | None = None) -> Flask:
    instance = os.environ.get("ML_INSTANCE_PATH") or str(HERE / "instance")
    app = Flask(__name__, instance_path=instance)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("ML_SECRET_KEY", "dev-only-secret-change-me"),
        MODEL_PATH=os.path.join(app.instance_path, "iris-model.joblib"),
        MAX_CONTENT_LENGTH=16 * 1024,  # four numbers need far less
    )
    if test_config:
        app.config.update(test_config)
    app.extensions["iris_model"] = load_or_train(Path(app.config["MODEL_PATH"]))

    @app.context_processor
    def model_info():
        bundle = app.extensions["iris_model"]
        return {"accuracy": bundle["accuracy"], "test_size": bundle["test_size"]}

    @app.route("/", methods=["GET", "POST"])
    def index():
        form = IrisForm()
        result = None
        if form.validate_on_submit():
            result = predict([form[name].data for name in FEATURES])
        elif form.errors:
            app.logger.warning("form rejected: %s", sorted(form.errors))
            return render_template("index.html", form=form, result=None), 400
        return render_template("index.html", form=form, result=result)

    @app.post("/api/predict")
    def api_predict():
        if not request.is_json:
            return {"error": "send a JSON object with Content-Type: application/json"}, 415
        data = request.get_json(silent=True)
        if data is None:
            return {"error": "the body is not valid JSON"}, 400
        values, errors = check_api_input(data)
        if errors:
            app.logger.warning("prediction input rejected: %s", sorted(errors))
            return {"error": "invalid input", "fields": errors}, 400
        return jsonify(predict(values))

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if request.path.startswith("/api/"):
            return {"error": e.description}, e.code
        return render_template("error.html", error=e), e.code

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Run the erlen ML example.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    create_app().run(host=args.host, port=args.port)
