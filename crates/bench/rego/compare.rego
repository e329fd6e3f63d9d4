# The benchmark's four rules in Rego, as a council might write them for OPA,
# evaluated by regorus over one council's log at a time.
#
# input.events: the council's events in log order, each its canonical JSON
# fields plus `seq` (position in the log) and times as whole seconds since
# 1970 (`at`, and `discovered` where the event has one).
# input.now: the instant of evaluation, in seconds.
#
# `findings` is a set of [rule, status, due, settled, person, device, policy,
# incident], the same tuple the benchmark makes of Warden's findings; null
# where a finding has no such part.

package compare

import rego.v1

tz := "Europe/London"

ev := input.events

# ---------------------------------------------------------------------------
# Indexes: Rego has no group-by, so each is a partial set built in one pass
# and copied into an object for constant-time lookups.

by_device_set[d] contains e if {
	some e in ev
	d := e.device
}

by_device := {d: s | some d, s in by_device_set}

by_person_set[p] contains e if {
	some e in ev
	p := e.person
}

by_person := {p: s | some p, s in by_person_set}

by_incident_set[i] contains e if {
	some e in ev
	i := e.incident
}

by_incident := {i: s | some i, s in by_incident_set}

person_kind[p] := k if {
	some e in ev
	e.type == "person_joined"
	p := e.person
	k := e.kind
}

device_owner[d] := o if {
	some e in ev
	e.type == "device_registered"
	d := e.device
	o := e.owner
}

# ---------------------------------------------------------------------------
# Helpers

status(due, settled) := "met" if {
	settled != null
	settled <= due
} else := "late" if {
	settled != null
} else := "overdue" if {
	input.now > due
} else := "open"

# The time of the earliest of `events`, given as [seq, at] pairs; null if none.
first_at(events) := sorted[0][1] if {
	sorted := sort(events)
	count(sorted) > 0
} else := null

# ---------------------------------------------------------------------------
# southend.devices-returned-48h: a councillor who leaves returns each
# council-owned device they hold within 48 hours (or reports it lost); a
# device already reported lost is not theirs to return.

taken_back(d, from, to) if {
	some x in by_device[d]
	x.seq > from
	x.seq < to
	# handed back, disposed of, issued again, or reported lost
	x.type in {"device_returned", "device_disposed", "device_issued", "device_lost"}
}

held_at(p, s) := {d |
	some i in by_person[p]
	i.type == "device_issued"
	i.seq < s
	d := i.device
	not taken_back(d, i.seq, s)
}

findings contains f if {
	some l in ev
	l.type == "person_left"
	person_kind[l.person] == "councillor"
	some d in held_at(l.person, l.seq)
	device_owner[d] == "council"
	due := l.at + 172800
	settled := first_at([[x.seq, x.at] |
		some x in by_device[d]
		x.seq > l.seq
		x.type in {"device_returned", "device_lost"}
	])
	f := ["southend.devices-returned-48h", status(due, settled), due, settled, l.person, d, null, null]
}

# ---------------------------------------------------------------------------
# uk.breach-notified-72h: a breach of personal data is notified to the ICO
# within 72 hours of discovery, or assessed as not notifiable.

findings contains f if {
	some r in ev
	r.type == "incident_reported"
	r.personal_data == true
	due := r.discovered + 259200
	settled := first_at([[x.seq, x.at] |
		some x in by_incident[r.incident]
		x.seq > r.seq
		discharges_breach(x)
	])
	f := [
		"uk.breach-notified-72h", status(due, settled), due, settled,
		object.get(r, "person", null), object.get(r, "device", null), null, r.incident,
	]
}

discharges_breach(x) if x.type == "incident_regulator_notified"

discharges_breach(x) if {
	x.type == "incident_assessed"
	x.notifiable == false
}

# ---------------------------------------------------------------------------
# redditch.policy-reviewed-12-months: each policy approved or reviewed again
# within twelve months (calendar months, local time) of the last time.

review_set[p] contains [e.seq, e.at] if {
	some e in ev
	e.type in {"policy_approved", "policy_reviewed"}
	p := e.policy
}

reviews := {p: sort(s) | some p, s in review_set}

findings contains f if {
	some p, done in reviews
	some i in numbers.range(1, count(done) - 1)
	due := add_12_months(done[i - 1][1])
	settled := done[i][1]
	f := ["redditch.policy-reviewed-12-months", status(due, settled), due, settled, null, null, p, null]
}

findings contains f if {
	some p, done in reviews
	due := add_12_months(done[count(done) - 1][1])
	f := ["redditch.policy-reviewed-12-months", status(due, null), due, null, null, null, p, null]
}

# The same wall-clock time on the same day twelve months later, or on the
# last day of that month when the day does not exist (29 February).
add_12_months(t) := due if {
	[y, m, d] := time.date([t * 1000000000, tz])
	[hh, mi, ss] := time.clock([t * 1000000000, tz])
	seconds := ((hh * 3600) + (mi * 60)) + ss
	local := days_from_civil(y, m, d) * 86400 + seconds
	offset := local - t
	y2 := y + 1
	d2 := min([d, days_in_month(y2, m)])
	due_local := days_from_civil(y2, m, d2) * 86400 + seconds
	due := due_local - utc_offset(due_local - offset)
}

utc_offset(t) := local - t if {
	[y, m, d] := time.date([t * 1000000000, tz])
	[hh, mi, ss] := time.clock([t * 1000000000, tz])
	local := days_from_civil(y, m, d) * 86400 + (hh * 3600 + mi * 60) + ss
}

# Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
days_from_civil(y, m, d) := days if {
	yy := march_year(y, m)
	era := floor(yy / 400)
	yoe := yy - era * 400
	mp := (m + 9) % 12
	doy := floor((153 * mp + 2) / 5) + d - 1
	doe := ((yoe * 365 + floor(yoe / 4)) - floor(yoe / 100)) + doy
	days := (era * 146097 + doe) - 719468
}

march_year(y, m) := y - 1 if m <= 2

march_year(y, m) := y if m > 2

days_in_month(y, 2) := 29 if leap(y)

days_in_month(y, 2) := 28 if not leap(y)

days_in_month(_, m) := 30 if m in {4, 6, 9, 11}

days_in_month(_, m) := 31 if m in {1, 3, 5, 7, 8, 10, 12}

leap(y) if {
	y % 4 == 0
	y % 100 != 0
}

leap(y) if y % 400 == 0

# ---------------------------------------------------------------------------
# redditch.broadband-one-per-household: at most one broadband claim per
# household in a financial year (1 April to 31 March, local dates).

claims_set[h] contains c if {
	some c in ev
	c.type == "expense_claimed"
	c.category == "broadband"
	h := c.household
}

claims := {h: s | some h, s in claims_set}

financial_year(t) := fy if {
	[y, m, _] := time.date([t * 1000000000, tz])
	fy := year_starting(y, m)
}

year_starting(y, m) := y if m >= 4

year_starting(y, m) := y - 1 if m < 4

findings contains f if {
	some h, household in claims
	some c in household
	fy := financial_year(c.at)
	n := count([x | some x in household; x.seq <= c.seq; financial_year(x.at) == fy])
	f := ["redditch.broadband-one-per-household", limit_status(n), null, c.at, c.person, null, null, null]
}

limit_status(n) := "violated" if n > 1

limit_status(n) := "met" if n <= 1
