-- The way out (issue 19, points 4 and 5): lärandeplatser at employers,
-- forumträffar with employers, employer contacts per staff member, and stöd
-- vid arbete for up to a year after a plan ends in employment.

-- A learning placement (lärandeplats) at an employer of the register. A
-- placement is a contact with the employer about the person, so it stands on
-- a consent or an urgent reason (`partner_contacts.placement_id`).
-- `competitive`: an ordinary job on the open labour market (IPS: competitive
-- employment), not a placement arranged for training.
CREATE TABLE placements (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id bigint NOT NULL REFERENCES participants (id),
    plan_id        bigint REFERENCES plans (id),
    employer_id    bigint NOT NULL REFERENCES employers (id),
    supervisor     text NOT NULL DEFAULT '' CHECK (length(supervisor) <= 200),
    tasks          text NOT NULL CHECK (length(btrim(tasks)) BETWEEN 1 AND 1000),
    competitive    boolean NOT NULL,
    start_on       date NOT NULL,
    end_on         date CHECK (end_on >= start_on),
    recorded_by    bigint NOT NULL REFERENCES users (id),
    recorded_at    timestamptz NOT NULL
);
CREATE INDEX placements_participant_idx ON placements (participant_id, start_on DESC);
CREATE INDEX placements_employer_idx ON placements (employer_id);

-- Forumträffar: employers meet the unit.
CREATE TABLE employer_forums (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id     bigint NOT NULL REFERENCES units (id),
    held_on     date NOT NULL,
    topic       text NOT NULL CHECK (length(btrim(topic)) BETWEEN 1 AND 200),
    notes       text NOT NULL DEFAULT '' CHECK (length(notes) <= 4000),
    recorded_by bigint NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL
);
CREATE INDEX employer_forums_unit_idx ON employer_forums (unit_id, held_on DESC);
CREATE TABLE employer_forum_attendees (
    forum_id    bigint NOT NULL REFERENCES employer_forums (id),
    employer_id bigint NOT NULL REFERENCES employers (id),
    PRIMARY KEY (forum_id, employer_id)
);

-- Employer contacts (job development) by a staff member: what IPS counts
-- per employment specialist and week. About employers, not about a person.
CREATE TABLE employer_contacts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id     bigint NOT NULL REFERENCES units (id),
    staff_id    bigint NOT NULL REFERENCES users (id),
    employer_id bigint NOT NULL REFERENCES employers (id),
    contact_on  date NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('visit', 'phone', 'meeting', 'email')),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    recorded_by bigint NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL
);
CREATE INDEX employer_contacts_unit_idx ON employer_contacts (unit_id, contact_on);
CREATE INDEX employer_contacts_staff_idx ON employer_contacts (staff_id, contact_on);

-- Stöd vid arbete: after a plan ends in employment, support to the person
-- and the employer for up to a year from the start of employment (the rule
-- is `domain::plans::employment_support_last_day`; the CHECK repeats it and
-- tests/rules_in_sql.rs checks that they agree). One per plan.
CREATE TABLE employment_supports (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id      bigint NOT NULL REFERENCES participants (id),
    plan_id             bigint NOT NULL UNIQUE REFERENCES plans (id),
    employer_id         bigint REFERENCES employers (id),
    employment_start_on date NOT NULL,
    ends_on             date NOT NULL,
    ended_on            date,
    end_note            text NOT NULL DEFAULT '' CHECK (length(end_note) <= 500),
    recorded_by         bigint NOT NULL REFERENCES users (id),
    recorded_at         timestamptz NOT NULL,
    CONSTRAINT employment_supports_within_a_year
        CHECK (ends_on > employment_start_on AND ends_on <= (employment_start_on + interval '1 year')::date),
    CHECK (ended_on IS NULL OR (ended_on >= employment_start_on AND ended_on <= ends_on))
);
CREATE INDEX employment_supports_open_idx ON employment_supports (ends_on) WHERE ended_on IS NULL;
CREATE INDEX employment_supports_participant_idx ON employment_supports (participant_id);

-- A contact within the support, with the person or with the employer, on a
-- day within it.
CREATE TABLE employment_support_contacts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    support_id  bigint NOT NULL REFERENCES employment_supports (id),
    contact_on  date NOT NULL,
    with_whom   text NOT NULL CHECK (with_whom IN ('person', 'employer')),
    note        text NOT NULL CHECK (length(btrim(note)) BETWEEN 1 AND 2000),
    staff_id    bigint NOT NULL REFERENCES users (id),
    recorded_by bigint NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL
);
CREATE INDEX employment_support_contacts_support_idx ON employment_support_contacts (support_id, contact_on DESC);

CREATE FUNCTION employment_support_contacts_within() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM employment_supports s WHERE s.id = NEW.support_id
                   AND NEW.contact_on >= s.employment_start_on AND NEW.contact_on <= coalesce(s.ended_on, s.ends_on)) THEN
        RAISE EXCEPTION 'a contact of stöd vid arbete falls within the support' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER employment_support_contacts_within BEFORE INSERT OR UPDATE ON employment_support_contacts
    FOR EACH ROW EXECUTE FUNCTION employment_support_contacts_within();

-- Contacts with the employer go through the consent gate too.
ALTER TABLE partner_contacts ADD COLUMN placement_id bigint REFERENCES placements (id);
ALTER TABLE partner_contacts ADD COLUMN employment_support_contact_id bigint REFERENCES employment_support_contacts (id);
ALTER TABLE partner_contacts ADD CONSTRAINT partner_contacts_placement_check
    CHECK ((via = 'placement') = (placement_id IS NOT NULL));
ALTER TABLE partner_contacts ADD CONSTRAINT partner_contacts_employment_support_check
    CHECK ((via = 'employment_support') = (employment_support_contact_id IS NOT NULL));

-- The reminder round flags the end of the support a month ahead.
ALTER TABLE reminders DROP CONSTRAINT reminders_kind_check;
ALTER TABLE reminders ADD CONSTRAINT reminders_kind_check
    CHECK (kind IN ('follow_up', 'renewal', 'two_year_limit', 'employment_support_end'));

-- What the reports read moves fact_versions (migration 0008).
CREATE CONSTRAINT TRIGGER placements_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON placements
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER employer_contacts_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON employer_contacts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER employment_supports_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON employment_supports
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER employer_forums_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON employer_forums
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();

-- Gallring reaches these records too (migration 0034's functions, extended):
-- placements and the support stay as rows for the statistics, emptied of
-- free text; the support's contacts go.
CREATE OR REPLACE FUNCTION last_entry_on(p bigint) RETURNS date LANGUAGE sql STABLE AS $$
    SELECT max(d) FROM (
        SELECT last_entry_on_records(p) AS d
        UNION ALL SELECT v.agreed_on FROM joint_plan_versions v JOIN joint_plans j ON j.id = v.joint_plan_id WHERE j.participant_id = p
        UNION ALL SELECT (v.saved_at AT TIME ZONE 'Europe/Stockholm')::date FROM joint_plan_versions v
                  JOIN joint_plans j ON j.id = v.joint_plan_id WHERE j.participant_id = p
        UNION ALL SELECT contact_on FROM partner_contacts WHERE participant_id = p
        UNION ALL SELECT (recorded_at AT TIME ZONE 'Europe/Stockholm')::date FROM partner_contacts WHERE participant_id = p
        UNION ALL SELECT start_on FROM placements WHERE participant_id = p
        UNION ALL SELECT end_on FROM placements WHERE participant_id = p
        UNION ALL SELECT employment_start_on FROM employment_supports WHERE participant_id = p
        UNION ALL SELECT ended_on FROM employment_supports WHERE participant_id = p
        UNION ALL SELECT c.contact_on FROM employment_support_contacts c JOIN employment_supports s ON s.id = c.support_id
                  WHERE s.participant_id = p
    ) entries
$$;

-- The person's due-ness is decided first, on every record there is
-- (`dispose_participant_records` asks `last_entry_on` before it deletes
-- anything); only then do the new records go. Their references to the
-- consents and notes that function deletes are checked at commit.
ALTER TABLE partner_contacts ALTER CONSTRAINT partner_contacts_consent_id_fkey DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE partner_contacts ALTER CONSTRAINT partner_contacts_journal_note_id_fkey DEFERRABLE INITIALLY DEFERRED;

CREATE OR REPLACE FUNCTION dispose_participant(p_id bigint, p_round bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT dispose_participant_records(p_id, p_round) THEN
        RETURN false;
    END IF;
    PERFORM set_config('lotsen.disposing', 'on', true);
    DELETE FROM urgent_contact_reviews r USING partner_contacts c WHERE c.id = r.contact_id AND c.participant_id = p_id;
    DELETE FROM partner_contacts WHERE participant_id = p_id;
    PERFORM set_config('lotsen.disposing', 'off', true);
    DELETE FROM joint_plan_parts x USING joint_plan_versions v, joint_plans j
        WHERE x.version_id = v.id AND v.joint_plan_id = j.id AND j.participant_id = p_id;
    DELETE FROM joint_plan_versions v USING joint_plans j WHERE v.joint_plan_id = j.id AND j.participant_id = p_id;
    DELETE FROM joint_plans WHERE participant_id = p_id;
    DELETE FROM employment_support_contacts c USING employment_supports s WHERE s.id = c.support_id AND s.participant_id = p_id;
    UPDATE employment_supports SET end_note = '' WHERE participant_id = p_id;
    UPDATE placements SET supervisor = '', tasks = 'Gallrad' WHERE participant_id = p_id;
    UPDATE intakes SET first_name = 'Gallrad', last_name = 'person', phone = '', note = '',
        close_reason = CASE WHEN close_reason = '' THEN '' ELSE 'Gallrad' END
        WHERE participant_id = p_id;
    RETURN true;
END
$$;

-- A contact stands on its consent as the consent is when the contact is
-- written: the consent's row is locked, so a withdrawal at the same moment
-- comes either before (and the contact is refused) or after.
CREATE OR REPLACE FUNCTION partner_contacts_stand_on_consent() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    c consents;
BEGIN
    IF NEW.consent_id IS NOT NULL THEN
        SELECT * INTO c FROM consents WHERE id = NEW.consent_id FOR SHARE;
        IF NOT FOUND OR NOT consent_covers(c, NEW.participant_id, NEW.partner_id, NEW.contact_on) THEN
            RAISE EXCEPTION 'no valid consent covers this partner contact' USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NEW;
END $$;
