-- A record is complete before it counts (issue 15): a plan is set only with
-- its written summary and at least one goal, a follow-up carries its written
-- summary, and a renewal says what was reviewed. Rows from before stay as
-- they were and are listed for managers to complete; none is counted.

-- Each renewal, with what was reviewed. plans.renewed_on stays the latest.
CREATE TABLE plan_renewals (
    id bigserial PRIMARY KEY,
    plan_id bigint NOT NULL REFERENCES plans (id),
    renewed_on date NOT NULL,
    reviewed text NOT NULL CONSTRAINT plan_renewals_reviewed CHECK (btrim(reviewed) <> '' AND length(reviewed) <= 20000),
    recorded_by bigint NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL,
    UNIQUE (plan_id, renewed_on)
);

-- New follow-ups need their summary; NOT VALID leaves the older ones as they were.
ALTER TABLE follow_ups ADD CONSTRAINT follow_ups_summarised CHECK (btrim(notes) <> '') NOT VALID;

-- Setting (fastställa) a plan needs its summary and a goal, and an active
-- plan's summary is not emptied afterwards.
CREATE FUNCTION plans_complete_when_set() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'active' AND btrim(NEW.summary) = ''
       AND (OLD.status <> 'active' OR btrim(OLD.summary) <> '') THEN
        RAISE EXCEPTION 'a plan is set with its written summary' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'plans_summary_when_set';
    END IF;
    IF NEW.status = 'active' AND OLD.status <> 'active'
       AND NOT EXISTS (SELECT 1 FROM plan_goals g WHERE g.plan_id = NEW.id) THEN
        RAISE EXCEPTION 'a plan is set with at least one goal' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'plans_goal_when_set';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER plans_complete_when_set BEFORE UPDATE OF status, summary ON plans
    FOR EACH ROW EXECUTE FUNCTION plans_complete_when_set();
