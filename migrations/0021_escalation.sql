-- Escalation (issue 16): a follow-up or renewal overdue by more than the
-- unit's number of days (default 14) reaches the unit's managers, once:
-- the reminder is marked with the day it escalated, which shows on the
-- managers' "Att göra" and goes in each manager's next digest.
ALTER TABLE units
    ADD COLUMN escalation_days integer NOT NULL DEFAULT 14 CHECK (escalation_days BETWEEN 1 AND 365);

ALTER TABLE reminders
    ADD COLUMN escalated_on date,
    ADD CONSTRAINT reminders_escalation CHECK (
        escalated_on IS NULL OR (kind IN ('follow_up', 'renewal') AND escalated_on > due_on));

-- The managers' open escalations, by unit.
CREATE INDEX reminders_escalated_idx ON reminders (unit_id, escalated_on)
    WHERE cleared_at IS NULL AND escalated_on IS NOT NULL;
