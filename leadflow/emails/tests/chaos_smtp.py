"""The receiving SMTP server of the sending chaos test (test_sending_chaos), in its own
process: aiosmtpd in the pytest process would share a core and the GIL with the test's
polling and be starved.

    python -m leadflow.emails.tests.chaos_smtp PORT RECEIVED_FILE

Appends `Message-ID recipient` to RECEIVED_FILE for every message it accepts, before it
answers 250 (so a message it acknowledged is always in the file). Prints `listening`
when ready. SIGUSR1: it stops listening (new connections are refused) and answers the
next MAIL FROM on open connections with 421 (before any message data, so nothing half
accepted); SIGUSR2: it listens again. SIGTERM ends it.
"""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from typing import IO

from aiosmtpd.smtp import SMTP

_MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class Receiver:
    def __init__(self, out: IO[str]):
        self.out = out
        self.refusing = False

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802 (aiosmtpd API)
        if self.refusing:
            return "421 4.3.2 Service shutting down, try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
        data = envelope.original_content or envelope.content
        head = data.split(b"\r\n\r\n", 1)[0]
        found = _MESSAGE_ID.search(head)
        message_id = found.group(1).decode() if found else "-"
        for rcpt in envelope.rcpt_tos:
            self.out.write(f"{message_id} {rcpt}\n")
        self.out.flush()
        return "250 2.0.0 OK"


async def main(port: int, path: str) -> None:
    loop = asyncio.get_running_loop()
    with open(path, "a", encoding="utf-8") as out:
        receiver = Receiver(out)

        async def listen() -> asyncio.Server:
            return await loop.create_server(lambda: SMTP(receiver, hostname="chaos"),
                                            "127.0.0.1", port, reuse_address=True)

        server: asyncio.Server | None = await listen()
        stop = asyncio.Event()
        changes: asyncio.Queue[bool] = asyncio.Queue()
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        loop.add_signal_handler(signal.SIGUSR1, changes.put_nowait, False)
        loop.add_signal_handler(signal.SIGUSR2, changes.put_nowait, True)
        print("listening", flush=True)
        stopping = asyncio.ensure_future(stop.wait())
        while not stop.is_set():
            change = asyncio.ensure_future(changes.get())
            await asyncio.wait([stopping, change], return_when=asyncio.FIRST_COMPLETED)
            if not change.done():
                change.cancel()
                break
            if change.result() is False and server is not None:
                receiver.refusing = True
                server.close()  # open connections stay; their next MAIL gets 421
                server = None
                print("refusing", flush=True)
            elif change.result() is True and server is None:
                receiver.refusing = False
                server = await listen()
                print("listening", flush=True)
        if server is not None:
            server.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
