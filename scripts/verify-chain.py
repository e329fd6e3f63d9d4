#!/usr/bin/env python3
"""Recompute a Warden hash chain from an export, with nothing but Python.

    warden export --db sqlite:warden.db --council southend > southend.jsonl
    python3 scripts/verify-chain.py southend.jsonl

Prints the number of events and the head hash; compare the head with the one
`warden verify` reports (or one the council published). Each line of an
export is an event's canonical JSON; its hash is SHA-256 over the previous
hash (32 zero bytes before the first event) followed by the line's UTF-8
bytes.
"""
import hashlib
import sys

head = bytes(32)
count = 0
with open(sys.argv[1], encoding="utf-8") as export:
    for line in export:
        line = line.rstrip("\n")
        if line:
            head = hashlib.sha256(head + line.encode("utf-8")).digest()
            count += 1
print(count, head.hex())
