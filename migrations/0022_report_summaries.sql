-- What the managers' reports read, kept ready (issue 16).
--
-- Visits by unit, day, gender and age group: the yearly report
-- and the visit statistics sum a few thousand of these rows instead of
-- counting a year of visits joined to the people. Kept in the same
-- transaction as the visit by the visits' trigger, sharded by person like
-- visit_day_counts (so fifty desks do not wait on one row), and moved when
-- a person's gender or birth date is corrected. The age group is the one
-- the statistics use: 35 or younger on the day of the visit.

CREATE TABLE visit_cells (
    unit_id  bigint NOT NULL REFERENCES units (id),
    visit_on date NOT NULL,
    gender   text NOT NULL,
    young    boolean NOT NULL,
    shard    smallint NOT NULL,
    visits   integer NOT NULL CHECK (visits >= 0),
    PRIMARY KEY (unit_id, visit_on, gender, young, shard)
);

-- 35 or younger on the day: the statistics' age group (Rust: attendance::statistics).
CREATE FUNCTION visit_young(birth date, on_day date) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN extract(year FROM age(on_day::timestamp, birth::timestamp)) <= 35;

-- A number per shard that grows with every change to the visits or the
-- drop-in counts: with fact_versions, it tells an instance that a report it
-- keeps in memory is still what the data says (reports::cache). Sharded
-- like the counts, so the desks do not queue on one row.
CREATE TABLE visit_versions (
    shard   smallint PRIMARY KEY,
    version bigint NOT NULL
);
INSERT INTO visit_versions (shard, version) SELECT s, 0 FROM generate_series(0, 7) AS s;

CREATE OR REPLACE FUNCTION visit_summaries_add(visit visits, delta integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    bit_value integer := CASE WHEN delta = 1 THEN 1 ELSE 0 END;
    day_index integer := extract(doy FROM visit.visit_on)::integer - 1;
    visit_year integer := extract(year FROM visit.visit_on)::integer;
    count_shard smallint := (visit.participant_id % 8)::smallint;
    person participants%ROWTYPE;
BEGIN
    INSERT INTO visit_day_counts (unit_id, visit_on, shard, visits)
    VALUES (visit.unit_id, visit.visit_on, count_shard, greatest(delta, 0))
    ON CONFLICT (unit_id, visit_on, shard) DO UPDATE SET visits = visit_day_counts.visits + delta;
    SELECT * INTO person FROM participants WHERE id = visit.participant_id;
    INSERT INTO visit_cells (unit_id, visit_on, gender, young, shard, visits)
    VALUES (visit.unit_id, visit.visit_on, person.gender, visit_young(person.birth_date, visit.visit_on), count_shard, greatest(delta, 0))
    ON CONFLICT (unit_id, visit_on, gender, young, shard) DO UPDATE SET visits = visit_cells.visits + delta;
    UPDATE visit_versions SET version = version + 1 WHERE shard = count_shard;
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

-- A corrected gender or birth date moves the person's visits to their new cells.
CREATE FUNCTION participants_move_visit_cells() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visit_cells c SET visits = c.visits - o.n
    FROM (SELECT unit_id, visit_on, visit_young(OLD.birth_date, visit_on) AS young, count(*)::integer AS n
          FROM visits WHERE participant_id = OLD.id AND cancelled_at IS NULL GROUP BY 1, 2, 3) o
    WHERE c.unit_id = o.unit_id AND c.visit_on = o.visit_on AND c.gender = OLD.gender AND c.young = o.young
      AND c.shard = (OLD.id % 8)::smallint;
    INSERT INTO visit_cells (unit_id, visit_on, gender, young, shard, visits)
    SELECT unit_id, visit_on, NEW.gender, visit_young(NEW.birth_date, visit_on), (NEW.id % 8)::smallint, count(*)::integer
    FROM visits WHERE participant_id = NEW.id AND cancelled_at IS NULL GROUP BY 1, 2, 3, 4, 5
    ON CONFLICT (unit_id, visit_on, gender, young, shard) DO UPDATE SET visits = visit_cells.visits + EXCLUDED.visits;
    UPDATE visit_versions SET version = version + 1 WHERE shard = (NEW.id % 8)::smallint;
    RETURN NULL;
END;
$$;

CREATE TRIGGER participants_move_visit_cells
    AFTER UPDATE OF gender, birth_date ON participants
    FOR EACH ROW WHEN (OLD.gender IS DISTINCT FROM NEW.gender OR OLD.birth_date IS DISTINCT FROM NEW.birth_date)
    EXECUTE FUNCTION participants_move_visit_cells();

-- The visits already there.
INSERT INTO visit_cells (unit_id, visit_on, gender, young, shard, visits)
SELECT v.unit_id, v.visit_on, p.gender, visit_young(p.birth_date, v.visit_on), (v.participant_id % 8)::smallint, count(*)
FROM visits v JOIN participants p ON p.id = v.participant_id
WHERE v.cancelled_at IS NULL
GROUP BY 1, 2, 3, 4, 5;

CREATE FUNCTION drop_ins_bump_visit_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE visit_versions SET version = version + 1 WHERE shard = (coalesce(NEW.unit_id, OLD.unit_id) % 8)::smallint;
    RETURN NULL;
END;
$$;
CREATE TRIGGER drop_in_visits_bump_visit_version AFTER INSERT OR UPDATE OR DELETE ON drop_in_visits
    FOR EACH ROW EXECUTE FUNCTION drop_ins_bump_visit_version();

-- Everything else a report reads moves fact_versions (migration 0008) too.
CREATE CONSTRAINT TRIGGER follow_ups_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON follow_ups
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER plan_renewals_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON plan_renewals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER plan_terms_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON plan_terms
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER unit_capacities_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON unit_capacities
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER opening_exceptions_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON opening_exceptions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER participant_status_events_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON participant_status_events
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER units_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON units
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
