"""A real SMTP server on loopback for the reminder tests (aiosmtpd): every
message it accepts is written to OUT_DIR as NNNN.json, with its envelope
(sender, recipients) and its text. Prints "ready" once listening; runs
until it is killed.

    smtp_sink.py PORT OUT_DIR
"""
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self, out):
        self.out = out
        self.count = len(os.listdir(out))

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        path = os.path.join(self.out, f"{self.count:04}.json")
        with open(path + ".part", "w", encoding="utf-8") as f:
            json.dump(
                {
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "data": envelope.content.decode("utf-8", "replace"),
                },
                f,
            )
        os.replace(path + ".part", path)
        return "250 OK"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    controller = Controller(Keep(out), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
