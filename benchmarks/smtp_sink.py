"""A fast receiving SMTP server for the email benchmark: accepts every message, keeps
nothing but a count of Message-IDs (duplicates), in its own process.

aiosmtpd reads a message's data line by line in Python (about 300 messages/s here):
it would measure itself, not the sender. This sink reads the data in one piece up to
the terminating dot, like Postfix's smtp-sink, the usual tool for MTA benchmarks.

    python benchmarks/smtp_sink.py PORT [--refuse-file PATH]

Prints `listening` when ready; on SIGTERM or SIGINT prints one JSON line:
{"messages": n, "distinct": m}.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections import Counter

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)
received: Counter[bytes] = Counter()


async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 sink ESMTP\r\n")
    try:
        while line := await reader.readline():
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 52428800\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                data = await reader.readuntil(b"\r\n.\r\n")
                head = data.split(b"\r\n\r\n", 1)[0]
                found = _MESSAGE_ID.search(head)
                received[found.group(1) if found else b""] += 1
                writer.write(b"250 2.0.0 queued\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 bye\r\n")
                break
            else:  # MAIL, RCPT, RSET, NOOP
                writer.write(b"250 ok\r\n")
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main(port: int) -> None:
    server = await asyncio.start_server(session, "127.0.0.1", port, limit=64 * 1024 * 1024)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("listening", flush=True)
    async with server:
        await stop.wait()
    print(json.dumps({"messages": sum(received.values()), "distinct": len(received)}),
          flush=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
