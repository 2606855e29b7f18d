-- Summaries of the visits for the managers' pages (issue 7), kept by a
-- trigger in the same transaction as the visit, so they are never stale:
--
-- visit_day_counts: visits per unit and day. The overview's "today", "this
-- month against last year" and visits-per-week read a few dozen rows of it
-- instead of counting tens of thousands of visits.
--
-- visit_days: for each person and year, a bit per day of the year (bit 0 =
-- 1 January) set when the person has a visit that day. "Had a visit in the
-- period" for every person is then one pass over one row per person and
-- year, with a mask of the period's days, instead of a probe into a million
-- visits per person. Exact, because a person has at most one visit a day
-- that is not undone (visits_one_per_day). A row exists only while a day of
-- it is set, so for a year the period covers whole the row alone answers.

CREATE TABLE visit_day_counts (
    unit_id  bigint NOT NULL REFERENCES units (id),
    visit_on date NOT NULL,
    visits   integer NOT NULL CHECK (visits >= 0),
    PRIMARY KEY (unit_id, visit_on)
);

CREATE TABLE visit_days (
    participant_id bigint NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    year           integer NOT NULL,
    days           bit(366) NOT NULL,
    PRIMARY KEY (participant_id, year)
);
CREATE INDEX visit_days_year_idx ON visit_days (year);

-- The days from `from_on` to `to_on` that fall in `year`, as a mask.
CREATE FUNCTION visit_days_mask(year integer, from_on date, to_on date) RETURNS bit(366)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN greatest(from_on, make_date(year, 1, 1)) > least(to_on, make_date(year, 12, 31)) THEN repeat('0', 366)::bit(366)
        ELSE (repeat('0', (greatest(from_on, make_date(year, 1, 1)) - make_date(year, 1, 1)))
              || repeat('1', least(to_on, make_date(year, 12, 31)) - greatest(from_on, make_date(year, 1, 1)) + 1)
              || repeat('0', 366 - (least(to_on, make_date(year, 12, 31)) - make_date(year, 1, 1)) - 1))::bit(366)
    END
$$;

-- Counts one visit in (+1) or out (-1) of both summaries.
CREATE FUNCTION visit_summaries_add(visit visits, delta integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    bit_value integer := CASE WHEN delta = 1 THEN 1 ELSE 0 END;
    day_index integer := extract(doy FROM visit.visit_on)::integer - 1;
    visit_year integer := extract(year FROM visit.visit_on)::integer;
BEGIN
    INSERT INTO visit_day_counts (unit_id, visit_on, visits) VALUES (visit.unit_id, visit.visit_on, greatest(delta, 0))
    ON CONFLICT (unit_id, visit_on) DO UPDATE SET visits = visit_day_counts.visits + delta;
    INSERT INTO visit_days (participant_id, year, days)
    VALUES (visit.participant_id, visit_year, set_bit(repeat('0', 366)::bit(366), day_index, bit_value))
    ON CONFLICT (participant_id, year) DO UPDATE SET days = set_bit(visit_days.days, day_index, bit_value);
    -- A year with no visit left has no row: a row is a visit that year.
    IF delta = -1 THEN
        DELETE FROM visit_days
        WHERE participant_id = visit.participant_id AND year = visit_year AND days = repeat('0', 366)::bit(366);
    END IF;
END;
$$;

-- A visit counts while it is not undone. Moving a visit (another day, unit
-- or person) counts it out of the old place and into the new.
CREATE FUNCTION visits_keep_summaries() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.cancelled_at IS NULL THEN
        PERFORM visit_summaries_add(OLD, -1);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.cancelled_at IS NULL THEN
        PERFORM visit_summaries_add(NEW, 1);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER visits_keep_summaries
    AFTER INSERT OR DELETE OR UPDATE OF cancelled_at, visit_on, unit_id, participant_id ON visits
    FOR EACH ROW EXECUTE FUNCTION visits_keep_summaries();

-- The visits already there.
INSERT INTO visit_day_counts (unit_id, visit_on, visits)
SELECT unit_id, visit_on, count(*) FROM visits WHERE cancelled_at IS NULL GROUP BY unit_id, visit_on;
INSERT INTO visit_days (participant_id, year, days)
SELECT participant_id, extract(year FROM visit_on)::integer,
       bit_or(set_bit(repeat('0', 366)::bit(366), extract(doy FROM visit_on)::integer - 1, 1))
FROM visits WHERE cancelled_at IS NULL
GROUP BY participant_id, extract(year FROM visit_on)::integer;
