"""The example apps (a package only so that pytest imports examples/conftest.py as
``examples.conftest``, not as a second top-level ``conftest`` shadowing tests/conftest.py)."""
