"""
The OpenAPI document is valid OpenAPI 3, agrees with the Klein routes both
ways, carries the official OCPP 1.6 schemas of the 19 commands, and is
served as YAML and JSON.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from typing import Any

import orjson
import pytest
import pytest_twisted
import yaml
from openapi_spec_validator import validate
from treq.testing import StubTreq
from twisted.internet.task import Clock
from werkzeug.exceptions import MethodNotAllowed, NotFound

from ocppcs.config import Config
from ocppcs.stations import StationRegistry
from ocppcs.testing import MemoryBackend
from ocppcs.v16.actions import CENTRAL_CALLS
from ocppcs.web import openapi
from ocppcs.web.api import RestApi
from ocppcs.web.auth import API_OPEN_PATHS

METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
_TEMPLATE = re.compile(r"<[^>]+>|\{[^}]+\}")


def document() -> dict[str, Any]:
    return openapi.document()


def normalize(path: str) -> str:
    """A path with its parameters unnamed: C{/ChargePoint/{}/{}}."""
    return _TEMPLATE.sub("{}", path)


def klein_routes() -> set[tuple[str, str]]:
    """(path relative to /api/v1 with unnamed parameters, method) of every Klein route."""
    routes = set()
    for rule in RestApi.app.url_map.iter_rules():
        assert rule.rule.startswith("/v1/"), rule.rule
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                routes.add((normalize(rule.rule[len("/v1") :]), method.lower()))
    return routes


def document_operations() -> list[tuple[str, str]]:
    return [
        (path, method)
        for path, item in document()["paths"].items()
        for method in item
        if method in METHODS
    ]


def test_valid_openapi_3() -> None:
    spec = document()
    validate(spec)
    assert spec["openapi"].startswith("3.")
    assert spec["servers"] == [{"url": "/api/v1"}]


def test_every_route_is_documented() -> None:
    documented = {(normalize(path), method) for path, method in document_operations()}
    missing = klein_routes() - documented
    assert not missing, f"routes missing from openapi.yaml: {sorted(missing)}"


@pytest.mark.parametrize(("path", "method"), document_operations())
def test_every_documented_operation_is_served(path: str, method: str) -> None:
    adapter = RestApi.app.url_map.bind("localhost")
    concrete = "/v1" + _TEMPLATE.sub("X1", path)
    try:
        adapter.match(concrete, method.upper())
    except (NotFound, MethodNotAllowed) as e:
        pytest.fail(f"{method.upper()} {path} is documented but not served: {e!r}")


def test_operation_ids_unique() -> None:
    ids = [document()["paths"][p][m]["operationId"] for p, m in document_operations()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(("path", "method"), document_operations())
def test_errors_documented(path: str, method: str) -> None:
    """
    Every route rejects bad query parameters (400); every body can be too
    large (413); with C{[api] auth} on, all but ping and time need
    credentials (401), as the auth guard's L{API_OPEN_PATHS} says.
    """
    operation = document()["paths"][path][method]
    assert "400" in operation["responses"]
    open_path = tuple(("/v1" + path).encode().split(b"/")[1:]) in API_OPEN_PATHS
    assert ("401" not in operation["responses"]) == open_path
    assert (operation.get("security") == []) == open_path
    takes_body = "requestBody" in operation or path.endswith("/accept")
    if takes_body:
        assert "413" in operation["responses"]


def _official(name: str) -> dict[str, Any]:
    """
    An official OCPP 1.6 schema, without what OpenAPI 3.0 does not have: the
    security whitepaper's (draft-06) C{definitions} are inlined where referenced, and
    C{javaType} and C{additionalItems} (which OpenAPI 3.0 has not) dropped.
    """
    text = files("ocpp.v16.schemas").joinpath(f"{name}.json").read_text("utf-8")
    raw = json.loads(text)
    definitions = raw.get("definitions", {})

    def clean(schema: Any) -> Any:
        if isinstance(schema, dict):
            ref = schema.get("$ref", "")
            if ref.startswith("#/definitions/"):
                return clean(definitions[ref.rpartition("/")[2]])
            return {
                key: (
                    {k: clean(v) for k, v in value.items()} if key == "properties" else clean(value)
                )
                for key, value in schema.items()
                if key not in ("$schema", "id", "$id", "definitions", "javaType", "additionalItems")
                and not (key == "additionalProperties" and schema.get("type") != "object")
            }
        if isinstance(schema, list):
            return [clean(item) for item in schema]
        return schema

    return clean(raw)


@pytest.mark.parametrize("operation", sorted(CENTRAL_CALLS))
def test_command_schemas_are_the_official_ones(operation: str) -> None:
    spec = document()
    schemas = spec["components"]["schemas"]
    assert schemas[f"{operation}Request"] == _official(operation)
    assert schemas[f"{operation}Response"] == _official(f"{operation}Response")
    post = spec["paths"][f"/ChargePoint/{{identity}}/{operation}"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": f"#/components/schemas/{operation}Request"}
    reply = post["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"$ref": f"#/components/schemas/{operation}Response"} in reply["anyOf"]
    assert post["requestBody"]["required"] == bool(_official(operation).get("required"))


@pytest_twisted.ensureDeferred
async def test_served_as_yaml_and_json() -> None:
    backend = MemoryBackend()
    api = RestApi(StationRegistry(backend), backend, Config(), Clock())
    http = StubTreq(api.resource())
    as_yaml = await http.get("http://cs.example/v1/openapi.yaml")
    assert as_yaml.code == 200
    assert yaml.safe_load(await as_yaml.content()) == document()
    as_json = await http.get("http://cs.example/v1/openapi.json")
    assert as_json.code == 200
    assert orjson.loads(await as_json.content()) == document()
