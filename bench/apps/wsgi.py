"""WSGI entry for the loopback layer: ``gunicorn bench.apps.wsgi:app`` with BENCH_PEER and
BENCH_KIND (``main``/``many``) in the environment."""

from __future__ import annotations

import os

import bench  # noqa: F401  (puts src/ on sys.path for erlen)
from bench.apps import load_peer

app = load_peer(os.environ.get("BENCH_PEER", "bare"))(os.environ.get("BENCH_KIND", "main"))
