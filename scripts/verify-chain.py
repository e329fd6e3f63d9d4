#!/usr/bin/env python3
"""Recompute a Warden hash chain from an export, with nothing but Python.

    warden export --db sqlite:warden.db --council southend > southend.jsonl
    python3 scripts/verify-chain.py southend.jsonl

Prints the number of events and the head hash; compare the head with the one
`warden verify` reports (or one the council published). Each line of an
export is an event's canonical JSON, naming the event by its id; an event
without an id of its own is named by its place in the log, `"id":"#N"` on
line N, which is implied and not hashed. Its hash is SHA-256 over the
previous hash (32 zero bytes before the first event) followed by the UTF-8
bytes of the line without that implied id.
"""
import hashlib
import sys

head = bytes(32)
count = 0
with open(sys.argv[1], encoding="utf-8") as export:
    for line in export:
        line = line.rstrip("\n")
        if line:
            count += 1
            line = line.replace(',"id":"#%d"' % count, "", 1)
            head = hashlib.sha256(head + line.encode("utf-8")).digest()
print(count, head.hex())
