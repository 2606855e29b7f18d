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
    participant_id bigint NOT NULL REFERENCES participants (id),
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

CREATE FUNCTION visits_keep_summaries() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    delta integer;
    bit_value integer;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.cancelled_at IS NOT NULL THEN
            RETURN NULL;
        END IF;
        delta := 1;
    ELSIF OLD.cancelled_at IS NULL AND NEW.cancelled_at IS NOT NULL THEN
        delta := -1;
    ELSIF OLD.cancelled_at IS NOT NULL AND NEW.cancelled_at IS NULL THEN
        delta := 1;
    ELSE
        RETURN NULL;
    END IF;
    bit_value := CASE WHEN delta = 1 THEN 1 ELSE 0 END;
    INSERT INTO visit_day_counts (unit_id, visit_on, visits) VALUES (NEW.unit_id, NEW.visit_on, greatest(delta, 0))
    ON CONFLICT (unit_id, visit_on) DO UPDATE SET visits = visit_day_counts.visits + delta;
    INSERT INTO visit_days (participant_id, year, days)
    VALUES (NEW.participant_id, extract(year FROM NEW.visit_on)::integer,
            set_bit(repeat('0', 366)::bit(366), extract(doy FROM NEW.visit_on)::integer - 1, bit_value))
    ON CONFLICT (participant_id, year) DO UPDATE
        SET days = set_bit(visit_days.days, extract(doy FROM NEW.visit_on)::integer - 1, bit_value);
    -- A year with no visit left has no row: a row is a visit that year.
    IF delta = -1 THEN
        DELETE FROM visit_days
        WHERE participant_id = NEW.participant_id AND year = extract(year FROM NEW.visit_on)::integer
          AND days = repeat('0', 366)::bit(366);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER visits_keep_summaries AFTER INSERT OR UPDATE OF cancelled_at ON visits
    FOR EACH ROW EXECUTE FUNCTION visits_keep_summaries();

-- The visits already there.
INSERT INTO visit_day_counts (unit_id, visit_on, visits)
SELECT unit_id, visit_on, count(*) FROM visits WHERE cancelled_at IS NULL GROUP BY unit_id, visit_on;
INSERT INTO visit_days (participant_id, year, days)
SELECT participant_id, extract(year FROM visit_on)::integer,
       bit_or(set_bit(repeat('0', 366)::bit(366), extract(doy FROM visit_on)::integer - 1, 1))
FROM visits WHERE cancelled_at IS NULL
GROUP BY participant_id, extract(year FROM visit_on)::integer;
