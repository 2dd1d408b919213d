# -*- test-case-name: tests.soap.test_compat -*-
"""
Spyne 2.14.0 (its last release) on today's Twisted and Python: import this
module before any C{spyne} module.

  1. C{spyne.server.twisted} imports C{twisted.python.constants}, which
     Twisted removed in 24.11: the C{constantly} package (a Twisted
     dependency) has the same API and takes its name.
  2. On Python 3.12+ spyne's vendored C{six} registers a meta-path importer
     without C{find_spec}, so C{import spyne} fails ("No module named
     spyne.util.six.moves"): L{_VendoredSixFinder} answers for it.
  3. Three str/bytes bugs of Python 3: the Twisted transport compares the
     request method (bytes) with C{"POST"} and so refuses every SOAP POST;
     C{_reconstruct_url} joins bytes and str, so C{?wsdl} answers an HTML
     500; C{Soap12.schema_validation_error_to_parent} gives lxml a bytes
     faultstring, so a schema-invalid request gets an HTML 500 instead of a
     SOAP 1.2 Sender Fault.

L{install} does all three (once; this module runs it on import). Import it
once the reactor is installed: C{spyne.server.twisted}, which it patches,
imports C{twisted.internet.reactor}.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from types import ModuleType
from typing import Any

_installed = False


class _VendoredSixLoader(importlib.abc.Loader):
    """Loads a C{spyne.util.six.moves} module through the vendored importer."""

    def __init__(self, importer: Any) -> None:
        self._importer = importer

    def create_module(self, spec: Any) -> ModuleType:
        module: ModuleType = self._importer.load_module(spec.name)
        return module

    def exec_module(self, module: ModuleType) -> None:
        return None


class _VendoredSixFinder(importlib.abc.MetaPathFinder):
    """C{find_spec} for spyne's vendored six importer (which has only C{find_module})."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not fullname.startswith("spyne.util.six.moves"):
            return None
        for finder in sys.meta_path:
            if type(finder).__name__ == "_SixMetaPathImporter" and (
                getattr(finder, "name", "") == "spyne.util.six"
            ):
                if fullname in getattr(finder, "known_modules", {}):
                    return importlib.util.spec_from_loader(fullname, _VendoredSixLoader(finder))
        return None


def _fix_constants() -> None:
    try:
        import twisted.python.constants  # noqa: F401
    except ImportError:
        import constantly

        sys.modules["twisted.python.constants"] = constantly


def _fix_transport() -> None:
    from spyne.server.twisted import http as spyne_http

    def get_request_method(self: Any) -> str:
        method = self.req.method
        return method.decode("ascii") if isinstance(method, bytes) else method

    def reconstruct_url(request: Any) -> str:
        url = request.prePathURL()
        return url.decode("ascii") if isinstance(url, bytes) else url

    spyne_http.TwistedHttpTransportContext.get_request_method = get_request_method
    spyne_http._reconstruct_url = reconstruct_url


def _fix_soap12_fault() -> None:
    from spyne.protocol.soap.soap12 import Soap12

    def schema_validation_error_to_parent(
        self: Any, ctx: Any, cls: Any, inst: Any, parent: Any, ns: Any, **kwargs: Any
    ) -> Any:
        if isinstance(inst.faultstring, bytes):
            inst.faultstring = inst.faultstring.decode("utf-8", "replace")
        return self.fault_to_parent(ctx, cls, inst, parent, ns, **kwargs)

    Soap12.schema_validation_error_to_parent = schema_validation_error_to_parent


def install() -> None:
    """Apply the fixes (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    _fix_constants()
    if not any(isinstance(f, _VendoredSixFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _VendoredSixFinder())
    _fix_transport()
    _fix_soap12_fault()


install()
