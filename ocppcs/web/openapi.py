# -*- test-case-name: tests.web.test_openapi -*-
"""The REST API's OpenAPI 3 document (C{openapi.yaml}, package data), loaded once."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml


@cache
def document_yaml() -> bytes:
    """The document as shipped (YAML)."""
    return files("ocppcs.web").joinpath("openapi.yaml").read_bytes()


@cache
def document() -> dict[str, Any]:
    """The document, parsed."""
    return yaml.safe_load(document_yaml())
