"""
A fast local webhook receiver for the benchmarks (C{run.py --backend
webhook}): a minimal HTTP/1.1 keep-alive server on asyncio + uvloop, in its
own process, answering every POST at once with the rules of
L{ocppcs.testing.ReceiverRules} (like the embedded ones: everything
Accepted, transaction ids counting up).

It understands only what the central system sends (C{Content-Length}
bodies, keep-alive) and listens on loopback only. On SIGTERM it prints how
many requests it answered, and its CPU time, on stderr.

    .venv/bin/python bench/webhook_receiver.py --port 9230
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time

import orjson
import uvloop

from ocppcs.testing import ReceiverRules

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "


class Receiver(asyncio.Protocol):
    """One connection: requests in, answers out, in order."""

    rules = ReceiverRules()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: asyncio.Transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        out = []
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = buffer[:end].lower()
            at = head.find(b"content-length:")
            length = 0
            if at >= 0:
                stop = head.find(b"\r\n", at)
                length = int(head[at + 15 : stop if stop >= 0 else len(head)])
            start = end + 4
            if len(buffer) < start + length:
                break
            body = buffer[start : start + length]
            buffer = buffer[start + length :]
            answer = orjson.dumps(self.rules.answer(orjson.loads(body)))
            out.append(b"%s%d\r\n\r\n%s" % (_OK, len(answer), answer))
        self.buffer = buffer
        if out:
            self.transport.write(b"".join(out))


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Receiver, "127.0.0.1", port, backlog=1024)
    stopped = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stopped.set_result, None)
    loop.add_signal_handler(signal.SIGINT, stopped.set_result, None)
    await stopped
    server.close()
    cpu = time.process_time()
    print(
        f"webhook_receiver: {Receiver.rules.requests} requests answered, {cpu:.2f} s CPU"
        f" ({cpu * 1e6 / max(1, Receiver.rules.requests):.0f} µs per request)",
        file=sys.stderr,
    )


def main() -> None:
    """Parse options and serve until SIGTERM."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0].strip())
    p.add_argument("--port", type=int, default=9230)
    args = p.parse_args()
    uvloop.run(serve(args.port))


if __name__ == "__main__":
    main()
