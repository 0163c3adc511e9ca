"""Shared by the tests and the doctests: every test starts a fresh naming session.

Layer and model names are unique within a session, as in Keras 3 (``dense``,
``dense_1``...); clearing the session before each test (and each docstring's examples)
makes the names a test sees independent of the tests that ran before it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from glassnet.utils import clear_session


@pytest.fixture(autouse=True)
def _fresh_names() -> Iterator[None]:
    clear_session()
    yield
