# -*- test-case-name: tests.web.test_landing -*-
"""
A small HTML page at C{/}, until the web UI is served there: links to the
Swagger UI, the OpenAPI document, the metrics and the station list.
"""

from __future__ import annotations

from twisted.web.resource import Resource
from twisted.web.static import Data

import ocppcs

#: (path, what it is) of every link on the page.
LINKS = (
    ("/docs/", "Swagger UI: the REST API, to read and try"),
    ("/api/v1/openapi.yaml", "The OpenAPI document (also /api/v1/openapi.json)"),
    ("/api/v1/ChargePointList", "The stations (ChargePointList)"),
    ("/api/v1/TransactionList", "The transactions (TransactionList)"),
    ("/api/v1/", "The REST API's index"),
    ("/metrics", "Prometheus metrics"),
)


def page() -> bytes:
    """The page's HTML."""
    items = "\n".join(f'    <li><a href="{path}">{path}</a>: {what}</li>' for path, what in LINKS)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>ocppcs</title>
</head>
<body>
  <h1>ocppcs {ocppcs.__version__}</h1>
  <p>An OCPP 1.6 central system. Stations connect to
  <code>ws://HOST:PORT/ocpp/{{identity}}</code> (subprotocol <code>ocpp1.6</code>).</p>
  <ul>
{items}
  </ul>
</body>
</html>
""".encode()


def build_landing() -> Resource:
    """The C{/} resource."""
    return Data(page(), "text/html; charset=utf-8")
