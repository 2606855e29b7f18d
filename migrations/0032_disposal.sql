-- Gallring (issue 18, point 2; SoL 12 kap. 1 §). Once a year per unit a
-- manager draws the list of people whose last entry is more than the
-- retention years old and who have no active effort; people born on the 5th,
-- 15th or 25th are kept for research (bevaras) instead; a person can be held
-- (a legal hold, with a reason). On approval each listed person's personal
-- data is deleted, or made anonymous where the statistics need the row
-- (visits, plans' hours and outcomes, group attendance, the access log's
-- rows). The round itself keeps only its date, approver and counts.
ALTER TABLE participants ADD COLUMN disposed_on date;
ALTER TABLE participants ADD COLUMN kept_for_research_on date;
-- The statistics count a person once across units by their number
-- (`person_key`). Gallring removes the number, so before it does, the
-- person's records in every unit get one random link in its place: past
-- figures stay as they were, and nothing leads back to the number.
ALTER TABLE participants ADD COLUMN person_link text;
CREATE INDEX participants_person_link_idx ON participants (person_link) WHERE person_link IS NOT NULL;
CREATE FUNCTION person_key(person_link text, identity_kind text, identity_number text, id bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce('link:' || person_link, identity_kind || ':' || identity_number, 'id:' || id::text)
$$;

-- A legal hold stays with the person from one round to the next, with its
-- reason, until a manager lets it go.
ALTER TABLE participants ADD COLUMN legal_hold text CHECK (length(btrim(legal_hold)) BETWEEN 1 AND 500);

CREATE TABLE disposal_rounds (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id           bigint NOT NULL REFERENCES units (id),
    year              integer NOT NULL CHECK (year BETWEEN 2000 AND 2200),
    drawn_on          date NOT NULL,
    drawn_by          bigint NOT NULL REFERENCES users (id),
    retention_years   integer NOT NULL CHECK (retention_years >= 1),
    keep_for_research boolean NOT NULL,
    approved_at       timestamptz,
    approved_by       bigint REFERENCES users (id),
    disposed          integer CHECK (disposed >= 0),
    kept_for_research integer CHECK (kept_for_research >= 0),
    held              integer CHECK (held >= 0),
    CONSTRAINT disposal_rounds_once_a_year UNIQUE (unit_id, year),
    CONSTRAINT disposal_rounds_approved_whole CHECK (
        (approved_at IS NULL) = (approved_by IS NULL)
        AND (approved_at IS NULL) = (disposed IS NULL)
        AND (approved_at IS NULL) = (kept_for_research IS NULL)
        AND (approved_at IS NULL) = (held IS NULL))
);

-- The list before approval (names are in it through the person); emptied
-- when the round is approved.
CREATE TABLE disposal_candidates (
    round_id       bigint NOT NULL REFERENCES disposal_rounds (id) ON DELETE CASCADE,
    participant_id bigint NOT NULL REFERENCES participants (id),
    last_entry_on  date NOT NULL,
    decision       text NOT NULL CHECK (decision IN ('dispose', 'kept_for_research', 'hold')),
    hold_reason    text NOT NULL DEFAULT '' CHECK (length(hold_reason) <= 500),
    PRIMARY KEY (round_id, participant_id),
    CONSTRAINT disposal_candidates_hold_has_reason CHECK (decision <> 'hold' OR length(btrim(hold_reason)) > 0)
);

-- The day of the last entry about a person, of any kind: the record and its
-- versions, status, kontaktman, boendestöd, närstående, samtycken, journal,
-- plans and their follow-ups and hours, visits and group activities.
CREATE FUNCTION last_entry_on(p bigint) RETURNS date LANGUAGE sql STABLE AS $$
    SELECT max(d) FROM (
        SELECT (created_at AT TIME ZONE 'Europe/Stockholm')::date AS d FROM participants WHERE id = p
        UNION ALL SELECT (updated_at AT TIME ZONE 'Europe/Stockholm')::date FROM participants WHERE id = p
        UNION ALL SELECT (changed_at AT TIME ZONE 'Europe/Stockholm')::date FROM participant_versions WHERE participant_id = p
        UNION ALL SELECT effective_on FROM participant_status_events WHERE participant_id = p
        UNION ALL SELECT (changed_at AT TIME ZONE 'Europe/Stockholm')::date FROM participant_status_events WHERE participant_id = p
        UNION ALL SELECT (assigned_at AT TIME ZONE 'Europe/Stockholm')::date FROM key_worker_assignments WHERE participant_id = p
        UNION ALL SELECT (recorded_at AT TIME ZONE 'Europe/Stockholm')::date FROM home_support_entries WHERE participant_id = p
        UNION ALL SELECT (corrected_at AT TIME ZONE 'Europe/Stockholm')::date FROM home_support_entries WHERE participant_id = p
        UNION ALL SELECT (recorded_at AT TIME ZONE 'Europe/Stockholm')::date FROM consents WHERE participant_id = p
        UNION ALL SELECT from_on FROM key_worker_assignments WHERE participant_id = p
        UNION ALL SELECT to_on FROM key_worker_assignments WHERE participant_id = p
        UNION ALL SELECT valid_from FROM home_support_entries WHERE participant_id = p
        UNION ALL SELECT (v.changed_at AT TIME ZONE 'Europe/Stockholm')::date FROM relative_versions v
                  JOIN relatives r ON r.id = v.relative_id WHERE r.participant_id = p
        UNION ALL SELECT given_on FROM consents WHERE participant_id = p
        UNION ALL SELECT withdrawn_on FROM consents WHERE participant_id = p
        UNION ALL SELECT (created_at AT TIME ZONE 'Europe/Stockholm')::date FROM journal_notes WHERE participant_id = p
        UNION ALL SELECT (v.changed_at AT TIME ZONE 'Europe/Stockholm')::date FROM plan_versions v
                  JOIN plans pl ON pl.id = v.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT f.held_on FROM follow_ups f JOIN plans pl ON pl.id = f.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT (f.recorded_at AT TIME ZONE 'Europe/Stockholm')::date FROM follow_ups f JOIN plans pl ON pl.id = f.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT (f.completed_at AT TIME ZONE 'Europe/Stockholm')::date FROM follow_ups f JOIN plans pl ON pl.id = f.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT (a.written_at AT TIME ZONE 'Europe/Stockholm')::date FROM capacity_assessments a JOIN plans pl ON pl.id = a.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT (a.signed_at AT TIME ZONE 'Europe/Stockholm')::date FROM capacity_assessments a JOIN plans pl ON pl.id = a.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT (r.recorded_at AT TIME ZONE 'Europe/Stockholm')::date FROM plan_renewals r JOIN plans pl ON pl.id = r.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT (q.queued_at AT TIME ZONE 'Europe/Stockholm')::date FROM queue_entries q JOIN plans pl ON pl.id = q.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT q.closed_on FROM queue_entries q JOIN plans pl ON pl.id = q.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT (g.created_at AT TIME ZONE 'Europe/Stockholm')::date FROM plan_goals g JOIN plans pl ON pl.id = g.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT (a.created_at AT TIME ZONE 'Europe/Stockholm')::date FROM plan_activities a JOIN plans pl ON pl.id = a.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT h.worked_on FROM training_hours h JOIN plans pl ON pl.id = h.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT (h.recorded_at AT TIME ZONE 'Europe/Stockholm')::date FROM training_hours h JOIN plans pl ON pl.id = h.plan_id WHERE pl.participant_id = p
        UNION ALL SELECT visit_on FROM visits WHERE participant_id = p AND cancelled_at IS NULL
        UNION ALL SELECT (g.starts_at AT TIME ZONE 'Europe/Stockholm')::date FROM group_activity_attendance a
                  JOIN group_activities g ON g.id = a.activity_id WHERE a.participant_id = p
        UNION ALL SELECT (recorded_at AT TIME ZONE 'Europe/Stockholm')::date FROM group_activity_attendance WHERE participant_id = p
    ) entries
$$;

-- The journal and relatives' history stay append-only, except for the
-- disposal below: it runs as the tables' owner (SECURITY DEFINER) and says
-- so for its transaction. The server's role owns nothing, so it cannot.
CREATE OR REPLACE FUNCTION journal_notes_are_permanent() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('lotsen.disposing', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'journal notes are never changed or deleted; write a correction';
END;
$$;

CREATE OR REPLACE FUNCTION relative_versions_are_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('lotsen.disposing', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'relative_versions are never changed or deleted' USING ERRCODE = 'restrict_violation';
END $$;

-- Disposes of one person's personal data, when they are on the open list
-- of a round of their unit to be disposed of, and still due: not already
-- disposed of, no active effort (status not active, no active plan, no open
-- place in the kö), and no entry in the round's retention years before
-- today (the database's own date: a caller cannot move it). Returns false,
-- changing nothing, for someone no longer due (a new entry since the list
-- was drawn). The server's role may call it; it cannot reach anyone who is
-- not on such a list.
CREATE FUNCTION dispose_participant(p_id bigint, p_round bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_years integer;
    v_link text;
BEGIN
    SELECT r.retention_years INTO v_years
    FROM disposal_rounds r
    JOIN disposal_candidates c ON c.round_id = r.id AND c.participant_id = p_id AND c.decision = 'dispose'
    JOIN participants pa ON pa.id = p_id AND pa.unit_id = r.unit_id
    WHERE r.id = p_round AND r.approved_at IS NULL;
    IF v_years IS NULL THEN
        RAISE EXCEPTION 'participant % is not on the open list of round %', p_id, p_round USING ERRCODE = 'check_violation';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM participants WHERE id = p_id AND status <> 'active' AND disposed_on IS NULL)
       OR EXISTS (SELECT 1 FROM plans WHERE participant_id = p_id AND status = 'active')
       OR EXISTS (SELECT 1 FROM queue_entries q JOIN plans pl ON pl.id = q.plan_id WHERE pl.participant_id = p_id AND q.closed_on IS NULL)
       OR last_entry_on(p_id) + make_interval(years => greatest(v_years, 1)) >= current_date THEN
        RETURN false;
    END IF;
    PERFORM set_config('lotsen.disposing', 'on', true);
    DELETE FROM journal_notes WHERE participant_id = p_id;
    DELETE FROM relative_versions v USING relatives r WHERE r.id = v.relative_id AND r.participant_id = p_id;
    PERFORM set_config('lotsen.disposing', 'off', true);
    DELETE FROM relatives WHERE participant_id = p_id;
    DELETE FROM participant_versions WHERE participant_id = p_id;
    DELETE FROM consents WHERE participant_id = p_id;
    DELETE FROM register_extract_requests WHERE participant_id = p_id;
    DELETE FROM reminders WHERE participant_id = p_id;
    DELETE FROM drafts WHERE participant_id = p_id;
    DELETE FROM access_reasons WHERE participant_id = p_id;
    DELETE FROM capacity_assessments a USING plans pl WHERE pl.id = a.plan_id AND pl.participant_id = p_id;
    DELETE FROM plan_versions v USING plans pl WHERE pl.id = v.plan_id AND pl.participant_id = p_id;
    -- Goals and activities stay as rows (follow-ups' progress points at
    -- them); their words go.
    UPDATE plan_goals g SET description = 'Gallrad' FROM plans pl WHERE pl.id = g.plan_id AND pl.participant_id = p_id;
    UPDATE plan_activities a SET description = 'Gallrad' FROM plans pl WHERE pl.id = a.plan_id AND pl.participant_id = p_id;
    UPDATE follow_ups f SET notes = 'Gallrad', staff_present = ''
        FROM plans pl WHERE pl.id = f.plan_id AND pl.participant_id = p_id;
    UPDATE plan_renewals r SET reviewed = 'Gallrad' FROM plans pl WHERE pl.id = r.plan_id AND pl.participant_id = p_id;
    UPDATE plans SET participation = '', summary = '', supervisor = '', tasks = '', outcome_note = ''
        WHERE participant_id = p_id;
    UPDATE queue_entries q SET closed_note = CASE WHEN q.closed_note = '' THEN '' ELSE 'Gallrad' END
        FROM plans pl WHERE pl.id = q.plan_id AND pl.participant_id = p_id;
    UPDATE home_support_entries SET provider = '',
        correction_reason = CASE WHEN corrected_at IS NULL THEN '' ELSE 'Gallrad' END
        WHERE participant_id = p_id;
    UPDATE participant_status_events SET note = '' WHERE participant_id = p_id;
    -- One link for all the person's records, in every unit, before the
    -- number goes: the one they already share, or a new one, chosen once.
    SELECT coalesce(
               (SELECT x.person_link FROM participants x
                WHERE x.identity_kind = p.identity_kind AND x.identity_number = p.identity_number AND x.person_link IS NOT NULL
                LIMIT 1),
               gen_random_uuid()::text)
        INTO v_link
        FROM participants p WHERE p.id = p_id AND p.identity_number IS NOT NULL;
    IF v_link IS NOT NULL THEN
        UPDATE participants o SET person_link = v_link
            FROM participants p
            WHERE p.id = p_id AND o.identity_kind = p.identity_kind AND o.identity_number = p.identity_number;
    END IF;
    -- Kept for the statistics: unit, gender, birth date, residence, referral,
    -- dates and status; everything that names or reaches the person goes.
    UPDATE participants SET first_name = 'Gallrad', last_name = 'person', identity_kind = 'none', identity_number = NULL,
        phone = '', email = '', address = '',
        non_resident_reason = CASE WHEN resident THEN '' ELSE 'Gallrad' END,
        coordinated_plan_lead = '', protected_identity = false, legal_hold = NULL, disposed_on = current_date
        WHERE id = p_id;
    RETURN true;
END
$$;
REVOKE ALL ON FUNCTION dispose_participant(bigint, bigint) FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lotsen_app') THEN
        GRANT EXECUTE ON FUNCTION dispose_participant(bigint, bigint) TO lotsen_app;
    END IF;
END
$$;
