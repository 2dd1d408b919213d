"""twistd plugin: ``twistd ocppcs`` runs the OCPP central system."""

from twisted.application.service import ServiceMaker

ocppcs = ServiceMaker(
    "OCPP central system", "ocppcs.tap", "OCPP 1.6 central system (ocppcs)", "ocppcs"
)
