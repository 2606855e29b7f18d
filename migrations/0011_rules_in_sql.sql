-- Rules that SQL must repeat, each stated once here as a function, so that
-- the triggers and statements that need them say the same thing; the Rust in
-- src/domain/ is the source, and tests/rules_in_sql.rs checks that these agree
-- with it on every boundary.

-- DOMAIN.md: Yngre Lotsen (and Team ISA) is for ages 18–35, in whole years on
-- the day in question. Rust: domain::ages::is_young_adult. The dates are read
-- as timestamps without time zone, so the body is immutable (it does not
-- depend on the session's time zone) and PostgreSQL inlines it where used.
CREATE FUNCTION young_adult(birth date, on_day date) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN extract(year FROM age(on_day::timestamp, birth::timestamp)) BETWEEN 18 AND 35;

-- Whether a unit is open on a day, given its exception for it ('closed',
-- 'open', 'evening' or none) and whether the day is open by default (a
-- weekday that is not a holiday). Rust: domain::calendar::is_open.
CREATE FUNCTION unit_open(exception text, open_by_default boolean) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN CASE exception WHEN 'closed' THEN false WHEN 'open' THEN true WHEN 'evening' THEN true ELSE open_by_default END;

-- The triggers of 0006 and 0009, with the age rule from young_adult().
CREATE OR REPLACE FUNCTION young_adults_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM group_activities a JOIN participants p ON p.id = NEW.participant_id
        WHERE a.id = NEW.activity_id AND a.kind = 'young_adults'
          AND NOT young_adult(p.birth_date, (a.starts_at AT TIME ZONE 'Europe/Stockholm')::date)
    ) THEN
        RAISE EXCEPTION 'Yngre Lotsen is for ages 18 to 35' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'group_activity_attendance_young_adults_age';
    END IF;
    RETURN NEW;
END;
$$;

CREATE OR REPLACE FUNCTION young_adults_stay_young() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'young_adults' AND EXISTS (
        SELECT 1 FROM group_activity_attendance t JOIN participants p ON p.id = t.participant_id
        WHERE t.activity_id = NEW.id
          AND NOT young_adult(p.birth_date, (NEW.starts_at AT TIME ZONE 'Europe/Stockholm')::date)
    ) THEN
        RAISE EXCEPTION 'Yngre Lotsen is for ages 18 to 35' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'group_activities_young_adults_age';
    END IF;
    RETURN NEW;
END;
$$;
