-- Two changes for speed, neither changing what is stored.
--
-- person_key: records with the same identity number are one person (the
-- indicators count people once across units). The key is defined here once,
-- so every query that groups records into people agrees. A record without a
-- number is a person of its own. A plain SQL function that PostgreSQL inlines
-- (its body must be as immutable as it says: `'id:' || id` without the cast
-- would be only stable, and a call per row costs ten times more).
CREATE FUNCTION person_key(identity_kind text, identity_number text, id bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(identity_kind || ':' || identity_number, 'id:' || id::text)
$$;

-- visit_day_counts in shards: every check-in at a unit on a day updated one
-- row, so concurrent check-ins waited for each other's commit on that row's
-- lock. A visit now counts in the shard of its participant (participant_id
-- mod 8), which stays the same when the visit is undone, so its -1 meets its
-- +1. Readers sum the shards, as they already sum days.
ALTER TABLE visit_day_counts ADD COLUMN shard smallint NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 7);
ALTER TABLE visit_day_counts DROP CONSTRAINT visit_day_counts_pkey;
ALTER TABLE visit_day_counts ADD PRIMARY KEY (unit_id, visit_on, shard);

CREATE OR REPLACE FUNCTION visit_summaries_add(visit visits, delta integer) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    bit_value integer := CASE WHEN delta = 1 THEN 1 ELSE 0 END;
    day_index integer := extract(doy FROM visit.visit_on)::integer - 1;
    visit_year integer := extract(year FROM visit.visit_on)::integer;
    count_shard smallint := (visit.participant_id % 8)::smallint;
BEGIN
    INSERT INTO visit_day_counts (unit_id, visit_on, shard, visits)
    VALUES (visit.unit_id, visit.visit_on, count_shard, greatest(delta, 0))
    ON CONFLICT (unit_id, visit_on, shard) DO UPDATE SET visits = visit_day_counts.visits + delta;
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

-- The counts already there, again, in their shards.
DELETE FROM visit_day_counts;
INSERT INTO visit_day_counts (unit_id, visit_on, shard, visits)
SELECT unit_id, visit_on, (participant_id % 8)::smallint, count(*)
FROM visits WHERE cancelled_at IS NULL
GROUP BY unit_id, visit_on, (participant_id % 8)::smallint;

-- fact_versions: a number that grows when what the indicators read of the
-- records, plans or boendestöd changes. An app instance keeps those facts in
-- memory between requests while the number it read before loading them is
-- still the number in the table: never older than the table, whichever
-- instance changed it. The number moves at commit (a deferred trigger), as
-- the last lock a transaction takes, so writers cannot deadlock on it, and
-- once per transaction however many rows it changed.
CREATE TABLE fact_versions (
    facts     text PRIMARY KEY,
    version   bigint NOT NULL,
    bumped_in xid8
);
INSERT INTO fact_versions (facts, version) VALUES ('indicators', 1);

CREATE FUNCTION fact_versions_bump() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE fact_versions SET version = version + 1, bumped_in = pg_current_xact_id()
    WHERE facts = 'indicators' AND bumped_in IS DISTINCT FROM pg_current_xact_id();
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER participants_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON participants
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER plans_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON plans
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER home_support_entries_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON home_support_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
