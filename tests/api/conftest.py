"""API fixtures: tokens for users of each role and clearance, and a client that sends them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from tests.support.api import Api, issue_token


@pytest.fixture
def api_as(app: Flask) -> Callable[[str, str], Api]:
    """A factory: ``api_as("viewer", "public")`` is an API client holding such a user's token."""

    def make(role: str, clearance: str = "confidential") -> Api:
        return Api(app.test_client(), issue_token(role, clearance))

    return make


@pytest.fixture
def editor_api(api_as: Callable[[str, str], Api]) -> Api:
    """An editor cleared for everything."""
    return api_as("editor", "confidential")


@pytest.fixture
def viewer_api(api_as: Callable[[str, str], Api]) -> Api:
    """A viewer cleared for public cases only."""
    return api_as("viewer", "public")


@pytest.fixture
def anonymous_api(app: Flask) -> Api:
    """No token at all."""
    return Api(app.test_client())
