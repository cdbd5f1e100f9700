"""REST resources for erlen apps: Flask-RESTful 0.3's API.

``from flask_restful import Api, Resource, fields, marshal_with, reqparse`` becomes
``from erlen.rest import ...``. Importing ``erlen`` does not import this package: apps that
do not use it pay nothing. See ``docs/rest.md``.
"""

from __future__ import annotations

# Flask-RESTful's handle_error reads ``flask_restful.sys.exc_info``, and tests patch it there
import sys  # noqa: F401

from . import fields, inputs, reqparse
from .api import DEFAULT_REPRESENTATIONS, Api, abort
from .marshal import marshal, marshal_with, marshal_with_field
from .representations import output_json
from .resource import Resource
from .utils import OrderedDict, http_status_message, unpack

__all__ = [
    "DEFAULT_REPRESENTATIONS",
    "Api",
    "OrderedDict",
    "Resource",
    "abort",
    "fields",
    "http_status_message",
    "inputs",
    "marshal",
    "marshal_with",
    "marshal_with_field",
    "output_json",
    "reqparse",
    "unpack",
]
