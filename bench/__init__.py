"""erlen benchmark suite: erlen against Flask, Bottle, Falcon and bare WSGI.

Importing ``bench`` puts the checkout's ``src/`` on ``sys.path`` so the erlen being
benchmarked is the working tree, not some installed copy.
"""

from __future__ import annotations

import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_SRC = os.path.join(REPO_ROOT, "src")
if os.path.isdir(_SRC) and _SRC not in sys.path:
    sys.path.insert(0, _SRC)
