# -*- test-case-name: tests.transports.test_directwrite -*-
"""
Send small replies at once instead of on the next reactor iteration.

Twisted's TCP transport buffers every C{write()} and registers the socket for
writability (C{epoll_ctl}), sends on the next iteration, then unregisters it
(C{epoll_ctl} again). For a request/reply protocol with one small reply per
request, that is two extra system calls and a loop iteration per reply; in
the profile of ocppcs under load, those C{epoll_ctl} calls took about a fifth
of the reactor thread's time.

L{send_directly} wraps a plain TCP transport's C{write}: when nothing is
buffered, the data is sent with one C{send()} right away and only what the
kernel did not take is handed to Twisted's normal buffered path, so the byte
order on the wire is unchanged (a registered producer, such as the
C{HTTPChannel} left on an upgraded WebSocket connection, is still paused by
Twisted's buffered path if that path ever fills up). Other transports (TLS, UNIX sockets, test
transports) are left alone.
"""

from __future__ import annotations

from typing import Any

from twisted.internet import tcp


def send_directly(transport: Any) -> bool:
    """
    Make C{transport.write} send at once when its buffer is empty.

    @return: whether C{transport} was wrapped (only plain TCP connections are).
    """
    if type(transport) is not tcp.Server or getattr(transport, "TLS", False):
        return False
    buffered_write = transport.write
    write_some = transport.writeSomeData

    def write(data: bytes) -> None:
        t = transport
        if (
            t.connected
            and not t.disconnecting
            and not t._tempDataBuffer
            and len(t.dataBuffer) == t.offset
            and not t._writeDisconnected
            and type(data) is bytes
        ):
            sent = write_some(data)
            if type(sent) is int:
                if sent == len(data):
                    return
                data = data[sent:]
        buffered_write(data)

    transport.write = write
    return True
