-- Figures for a past date are computed from what was in force on that date
-- (issue 16): a plan's hours and workplace, and a unit's capacity, are kept
-- as dated histories instead of being read from today's row.

-- What a set plan said from a day on: its hours a week and its workplace.
-- Written from each saved version (plan_versions), dated by the day the
-- version was saved (Europe/Stockholm). Drafts are left out: a plan counts
-- from the day it is set, with the terms it was set with. Several versions
-- in one day: the last one stands from that day.
CREATE TABLE plan_terms (
    plan_id      bigint NOT NULL REFERENCES plans (id),
    from_on      date NOT NULL,
    weekly_hours numeric(4, 2) NOT NULL,
    employer_id  bigint REFERENCES employers (id),
    PRIMARY KEY (plan_id, from_on)
);

CREATE FUNCTION plan_terms_from_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.snapshot->>'status' <> 'draft' THEN
        INSERT INTO plan_terms (plan_id, from_on, weekly_hours, employer_id)
        VALUES (NEW.plan_id, (NEW.changed_at AT TIME ZONE 'Europe/Stockholm')::date,
                (NEW.snapshot->>'weekly_hours')::numeric, (NEW.snapshot->>'employer_id')::bigint)
        ON CONFLICT (plan_id, from_on)
            DO UPDATE SET weekly_hours = EXCLUDED.weekly_hours, employer_id = EXCLUDED.employer_id;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER plan_versions_keep_terms AFTER INSERT ON plan_versions
    FOR EACH ROW EXECUTE FUNCTION plan_terms_from_version();

-- The history so far, from the versions already saved.
INSERT INTO plan_terms (plan_id, from_on, weekly_hours, employer_id)
SELECT DISTINCT ON (plan_id, (changed_at AT TIME ZONE 'Europe/Stockholm')::date)
       plan_id, (changed_at AT TIME ZONE 'Europe/Stockholm')::date,
       (snapshot->>'weekly_hours')::numeric, (snapshot->>'employer_id')::bigint
FROM plan_versions
WHERE snapshot->>'status' <> 'draft'
ORDER BY plan_id, (changed_at AT TIME ZONE 'Europe/Stockholm')::date, version DESC;

-- A unit's capacity from a day on (DOMAIN.md: 105 h a week of
-- förstegsträning, 6 Team ISA places, a setting per unit). Written by the
-- unit's settings command with the day of the change; the first row is the
-- capacity the unit had when this history began.
CREATE TABLE unit_capacities (
    unit_id          bigint NOT NULL REFERENCES units (id),
    from_on          date NOT NULL,
    first_step_hours numeric(6, 2) NOT NULL CHECK (first_step_hours >= 0 AND first_step_hours <= 9999),
    team_isa_places  integer NOT NULL CHECK (team_isa_places >= 0 AND team_isa_places <= 999),
    PRIMARY KEY (unit_id, from_on)
);

INSERT INTO unit_capacities (unit_id, from_on, first_step_hours, team_isa_places)
SELECT id, (created_at AT TIME ZONE 'Europe/Stockholm')::date, first_step_hours, team_isa_places FROM units;

