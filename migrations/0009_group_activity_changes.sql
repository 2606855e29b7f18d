-- Group activities change after they are scheduled (issue 6): staff move
-- one (another day, time or place), change its leaders, type or title, or
-- call it off (inställd). A called-off activity is kept, with who did it,
-- when and why, and with the attendance it had. `version` grows with every
-- change, so two people changing one activity at once meet instead of the
-- later silently replacing the earlier.
ALTER TABLE group_activities
    ADD COLUMN version       integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN updated_by    bigint REFERENCES users (id),
    ADD COLUMN updated_at    timestamptz,
    ADD COLUMN cancelled_at  timestamptz,
    ADD COLUMN cancelled_by  bigint REFERENCES users (id),
    ADD COLUMN cancel_reason text NOT NULL DEFAULT '' CHECK (length(cancel_reason) <= 500),
    ADD CONSTRAINT group_activities_cancelled_by_whom CHECK ((cancelled_at IS NULL) = (cancelled_by IS NULL));

-- Nobody is added to an activity that was called off. The activity row is
-- locked for share, so a call-off committing at the same moment is either
-- seen here or waits for this attendance (and then keeps it, as it keeps the
-- attendance it already had).
CREATE FUNCTION attendance_needs_held_activity() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    called_off boolean;
BEGIN
    -- The lock is taken whatever the row says (a condition in the WHERE
    -- would skip the lock on a row not yet called off).
    SELECT cancelled_at IS NOT NULL INTO called_off FROM group_activities WHERE id = NEW.activity_id FOR SHARE;
    IF called_off THEN
        RAISE EXCEPTION 'the activity is called off' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'group_activity_attendance_held';
    END IF;
    RETURN NEW;
END;
$$;
-- Named to fire before group_activity_attendance_young_adults (triggers fire
-- in name order), so the age is checked against the locked activity.
CREATE TRIGGER group_activity_attendance_held BEFORE INSERT OR UPDATE ON group_activity_attendance
    FOR EACH ROW EXECUTE FUNCTION attendance_needs_held_activity();

-- Yngre Lotsen stays 18–35 when the activity changes: a new type or day may
-- not leave someone who took part outside the ages on the activity's day.
CREATE FUNCTION young_adults_stay_young() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'young_adults' AND EXISTS (
        SELECT 1 FROM group_activity_attendance t JOIN participants p ON p.id = t.participant_id
        WHERE t.activity_id = NEW.id
          AND extract(year FROM age((NEW.starts_at AT TIME ZONE 'Europe/Stockholm')::date, p.birth_date)) NOT BETWEEN 18 AND 35
    ) THEN
        RAISE EXCEPTION 'Yngre Lotsen is for ages 18 to 35' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'group_activities_young_adults_age';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER group_activities_young_adults BEFORE UPDATE OF kind, starts_at ON group_activities
    FOR EACH ROW EXECUTE FUNCTION young_adults_stay_young();
