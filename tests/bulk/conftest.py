"""Bulk-data fixtures: the API tests' token-holding clients, shared."""

from tests.api.conftest import (  # noqa: F401 - fixtures, used by name
    api_as,
    editor_api,
    viewer_api,
)
