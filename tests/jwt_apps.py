"""One small JWT app on either framework (erlen + erlen.jwt, flask + flask_jwt_extended),
shared by tests/test_jwt*.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib
import json
from types import SimpleNamespace
from typing import Any

import jwt as pyjwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SECRET = "a-test-secret-of-at-least-32-bytes!!"
IMPLS = {"erlen": ("erlen", "erlen.jwt"), "flask": ("flask", "flask_jwt_extended")}


def make(impl: str, **config: Any) -> SimpleNamespace:
    """The same small app on either framework; returns app, client, the jwt module, manager."""
    fw_name, ext_name = IMPLS[impl]
    fw = importlib.import_module(fw_name)
    ext = importlib.import_module(ext_name)
    app = fw.Flask("jwt_test")
    config.setdefault("JWT_SECRET_KEY", SECRET)
    app.config.update(config)
    manager = ext.JWTManager(app)

    @app.route("/protected", methods=["GET", "POST"])
    @ext.jwt_required()
    def protected() -> Any:
        return {
            "id": ext.get_jwt_identity(),
            "claims": ext.get_jwt(),
            "alg": ext.get_jwt_header()["alg"],
        }

    @app.route("/optional")
    @ext.jwt_required(optional=True)
    def optional() -> Any:
        return {"id": ext.get_jwt_identity(), "claims": ext.get_jwt()}

    @app.route("/fresh")
    @ext.jwt_required(fresh=True)
    def fresh() -> Any:
        return {"id": ext.get_jwt_identity()}

    @app.route("/refresh", methods=["POST"])
    @ext.jwt_required(refresh=True)
    def refresh() -> Any:
        return {"access": ext.create_access_token(ext.get_jwt_identity())}

    @app.route("/login", methods=["POST"])
    def login() -> Any:
        resp = fw.jsonify(ok=True)
        ext.set_access_cookies(resp, ext.create_access_token("alice"))
        ext.set_refresh_cookies(resp, ext.create_refresh_token("alice"))
        return resp

    @app.route("/logout", methods=["POST"])
    def logout() -> Any:
        resp = fw.jsonify(ok=True)
        ext.unset_jwt_cookies(resp)
        return resp

    return SimpleNamespace(app=app, client=app.test_client(), ext=ext, jwt=manager, fw=fw)


def token(t: SimpleNamespace, kind: str = "access", identity: Any = "alice", **kw: Any) -> str:
    with t.app.app_context():
        if kind == "access":
            return t.ext.create_access_token(identity, **kw)  # type: ignore[no-any-return]
        return t.ext.create_refresh_token(identity, **kw)  # type: ignore[no-any-return]


def bearer(tok: str) -> dict[str, str]:
    return {"Authorization": "Bearer " + tok}


def claims_of(t: SimpleNamespace, tok: str) -> dict[str, Any]:
    return pyjwt.decode(tok, SECRET, algorithms=["HS256"])


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge_hs256(secret: bytes, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token signed by hand with HMAC-SHA256 (PyJWT itself refuses a PEM key as secret)."""
    signing = b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())
    return signing + "." + b64(hmac.new(secret, signing.encode(), hashlib.sha256).digest())


def rsa_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public
