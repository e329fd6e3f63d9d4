"""Reads an iCalendar file with Python's `icalendar` (a parser the feeds'
subscribers resemble) and prints what the reminder tests check, as JSON:
each VEVENT's UID, its start as a UTC instant and the zone it was written
in, its alarms and URL; and each VTIMEZONE's TZID. A file icalendar cannot
read exits non-zero with its error.

    read_ics.py FILE
"""
import datetime
import json
import sys

import icalendar


def main():
    with open(sys.argv[1], "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    problems = [f"{c.name}: {e}" for c in cal.walk() for e in getattr(c, "errors", [])]
    for need in ("VERSION", "PRODID"):
        if need not in cal:
            problems.append(f"VCALENDAR has no {need}")
    for event in cal.walk("VEVENT"):
        for need in ("UID", "DTSTAMP", "DTSTART"):
            if need not in event:
                problems.append(f"a VEVENT has no {need}")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    events = []
    for event in cal.walk("VEVENT"):
        start = event.decoded("DTSTART")
        if not isinstance(start, datetime.datetime) or start.tzinfo is None:
            print(f"DTSTART without a time zone: {start!r}", file=sys.stderr)
            sys.exit(1)
        param = event["DTSTART"].params.get("TZID")
        events.append(
            {
                "uid": str(event["UID"]),
                "start_utc": start.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "tzid": param,
                "utcoffset_hours": start.utcoffset().total_seconds() / 3600,
                "alarms": len(event.walk("VALARM")),
                "url": str(event.get("URL", "")),
                "summary": str(event.get("SUMMARY", "")),
            }
        )
    zones = [str(z["TZID"]) for z in cal.walk("VTIMEZONE")]
    print(json.dumps({"version": str(cal.get("VERSION")), "prodid": str(cal.get("PRODID")),
                      "events": events, "timezones": zones}))


if __name__ == "__main__":
    main()
