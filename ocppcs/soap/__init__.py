"""
OCPP-S: OCPP 1.5 and 1.6 over SOAP 1.2 (the official OCA WSDLs in C{ocppcs/soap/wsdl/}).

L{ocppcs.soap.compat} makes Spyne 2.14 usable on this stack; import it before
any C{spyne} module.
"""
