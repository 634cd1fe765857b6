"""A real SMTP server for tests (aiosmtpd). Each accepted message is written to DIR as
NNNNNN.eml (envelope recipients first, as X-Sink-Rcpt headers), atomically.

    python3 smtp_sink.py PORT DIR [--refuse-first N] [--hold-at N --hold-seconds S]

--refuse-first N   answer the first N messages with 451 (try again later)
--hold-at N        on the Nth message, write DIR/holding, wait S seconds, then refuse it:
                   a message the client never finished sending is not accepted
Recipients containing "reject" are refused with 550 (permanent). Prints "ready" when
listening; exits when standard input closes.
"""
import argparse, os, pathlib, sys, threading, time
from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, folder, refuse_first, hold_at, hold_seconds):
        self.folder = pathlib.Path(folder)
        self.refuse_first = refuse_first
        self.hold_at = hold_at
        self.hold_seconds = hold_seconds
        self.seen = 0
        self.stored = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if "reject" in address:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        import asyncio
        with self.lock:
            self.seen += 1
            seen = self.seen
        if self.refuse_first > 0:
            self.refuse_first -= 1
            return "451 4.3.0 try again later"
        if self.hold_at and seen == self.hold_at:
            (self.folder / "holding").write_text(str(seen))
            await asyncio.sleep(self.hold_seconds)
            return "451 4.3.0 held and dropped"
        with self.lock:
            self.stored += 1
            n = self.stored
        rcpt = "".join(f"X-Sink-Rcpt: {r}\r\n" for r in envelope.rcpt_tos)
        tmp = self.folder / f".{n:06d}.tmp"
        tmp.write_bytes(rcpt.encode() + envelope.original_content)
        os.rename(tmp, self.folder / f"{n:06d}.eml")
        return "250 OK"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("port", type=int)
    p.add_argument("folder")
    p.add_argument("--refuse-first", type=int, default=0)
    p.add_argument("--hold-at", type=int, default=0)
    p.add_argument("--hold-seconds", type=float, default=3.0)
    a = p.parse_args()
    handler = Handler(a.folder, a.refuse_first, a.hold_at, a.hold_seconds)
    controller = Controller(handler, hostname="127.0.0.1", port=a.port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
