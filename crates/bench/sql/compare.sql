-- The benchmark's four rules in SQL over one table of every council's
-- events (SQLite). Times are whole seconds since 1970; `seq` is the event's
-- place in its council's log (and increases across councils); `utc_offsets`
-- holds Europe/London's offset from each clock change on, as a reporting
-- database's calendar table would. `:now` is the instant of evaluation.
--
-- Each row: council, rule, status, due, settled, person, device, policy, incident.

WITH
-- southend.devices-returned-48h ---------------------------------------------
leaves AS (
    SELECT l.council, l.seq, l.at, l.person
    FROM events l
    WHERE l.type = 'person_left'
      AND (SELECT j.kind FROM events j
           WHERE j.person = l.person AND j.type = 'person_joined' AND j.seq < l.seq
           ORDER BY j.seq DESC LIMIT 1) = 'councillor'
),
held AS (
    SELECT DISTINCT lv.council, lv.seq AS left_seq, lv.at AS left_at, lv.person, i.device
    FROM leaves lv
    JOIN events i ON i.person = lv.person AND i.type = 'device_issued' AND i.seq < lv.seq
    WHERE NOT EXISTS (
            SELECT 1 FROM events x
            WHERE x.device = i.device AND x.seq > i.seq AND x.seq < lv.seq
              -- handed back, disposed of, issued again, or reported lost
              AND x.type IN ('device_returned', 'device_disposed', 'device_issued', 'device_lost'))
      AND (SELECT r.owner FROM events r
           WHERE r.device = i.device AND r.type = 'device_registered') = 'council'
),
returns AS (
    SELECT h.council, h.person, h.device, h.left_at + 172800 AS due,
           (SELECT x.at FROM events x
            WHERE x.device = h.device AND x.seq > h.left_seq
              AND x.type IN ('device_returned', 'device_lost')
            ORDER BY x.seq LIMIT 1) AS settled
    FROM held h
),
-- uk.breach-notified-72h ----------------------------------------------------
breaches AS (
    SELECT r.council, r.person, r.device, r.incident, r.discovered + 259200 AS due,
           (SELECT x.at FROM events x
            WHERE x.incident = r.incident AND x.seq > r.seq
              AND (x.type = 'incident_regulator_notified'
                   OR (x.type = 'incident_assessed' AND x.notifiable = 0))
            ORDER BY x.seq LIMIT 1) AS settled
    FROM events r
    WHERE r.type = 'incident_reported' AND r.personal_data = 1
),
-- redditch.policy-reviewed-12-months ------------------------------------------
done AS (
    SELECT council, policy, at,
           LEAD(at) OVER (PARTITION BY council, policy ORDER BY seq) AS settled,
           at + (SELECT o.offset FROM utc_offsets o WHERE o.from_at <= at
                 ORDER BY o.from_at DESC LIMIT 1) AS local_at
    FROM events
    WHERE type IN ('policy_approved', 'policy_reviewed')
),
-- Twelve months on the local wall clock, clamped to the month's last day
-- ('floor'), then back to UTC with the offset in force then.
reviews AS (
    SELECT council, policy, settled, local_due - (
               SELECT o.offset FROM utc_offsets o
               WHERE o.from_at <= local_due - (local_at - at)
               ORDER BY o.from_at DESC LIMIT 1) AS due
    FROM (SELECT d.*, unixepoch(d.local_at, 'unixepoch', '+12 months', 'floor') AS local_due
          FROM done d)
),
-- redditch.broadband-one-per-household ----------------------------------------
claims AS (
    SELECT council, seq, at, person, household,
           CAST(strftime('%Y', local_at, 'unixepoch') AS INTEGER)
             - (CAST(strftime('%m', local_at, 'unixepoch') AS INTEGER) < 4) AS financial_year
    FROM (SELECT e.*, e.at + (SELECT o.offset FROM utc_offsets o WHERE o.from_at <= e.at
                              ORDER BY o.from_at DESC LIMIT 1) AS local_at
          FROM events e
          WHERE e.type = 'expense_claimed' AND e.category = 'broadband')
),
counted AS (
    SELECT council, at, person,
           ROW_NUMBER() OVER (PARTITION BY household, financial_year ORDER BY seq) AS n
    FROM claims
)
SELECT council, 'southend.devices-returned-48h',
       CASE WHEN settled <= due THEN 'met' WHEN settled IS NOT NULL THEN 'late'
            WHEN :now > due THEN 'overdue' ELSE 'open' END,
       due, settled, person, device, NULL, NULL
FROM returns
UNION ALL
SELECT council, 'uk.breach-notified-72h',
       CASE WHEN settled <= due THEN 'met' WHEN settled IS NOT NULL THEN 'late'
            WHEN :now > due THEN 'overdue' ELSE 'open' END,
       due, settled, person, device, NULL, incident
FROM breaches
UNION ALL
SELECT council, 'redditch.policy-reviewed-12-months',
       CASE WHEN settled <= due THEN 'met' WHEN settled IS NOT NULL THEN 'late'
            WHEN :now > due THEN 'overdue' ELSE 'open' END,
       due, settled, NULL, NULL, policy, NULL
FROM reviews
UNION ALL
SELECT council, 'redditch.broadband-one-per-household',
       CASE WHEN n > 1 THEN 'violated' ELSE 'met' END,
       NULL, at, person, NULL, NULL, NULL
FROM counted;
