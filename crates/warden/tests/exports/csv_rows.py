"""Reads a CSV file with Python's csv module (as a spreadsheet's importer
would) and prints its rows as a JSON list of objects keyed by the header.

    csv_rows.py FILE
"""
import csv
import json
import sys

with open(sys.argv[1], newline="", encoding="utf-8") as f:
    print(json.dumps(list(csv.DictReader(f))))
