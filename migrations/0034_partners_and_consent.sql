-- Samverkanspartner, the samordnad plan and consent as the gate of every
-- partner contact (issue 19, points 2 and 3).

-- The register of partner organisations. Employers are partners too: each
-- employer of the employer register has its partner row, made by a trigger
-- whoever adds the employer.
CREATE TABLE partners (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('social_insurance', 'employment_service', 'psychiatry', 'home_support',
                                               'social_services', 'primary_care', 'employer', 'other')),
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    employer_id bigint UNIQUE REFERENCES employers (id),
    created_by  bigint NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    CHECK ((kind = 'employer') = (employer_id IS NOT NULL))
);
CREATE UNIQUE INDEX partners_name_key ON partners (kind, lower(btrim(name)));

INSERT INTO partners (kind, name, employer_id, created_by, created_at)
SELECT 'employer', name, id, created_by, created_at FROM employers ORDER BY id;

CREATE FUNCTION employers_are_partners() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO partners (kind, name, employer_id, created_by, created_at)
    VALUES ('employer', NEW.name, NEW.id, NEW.created_by, NEW.created_at);
    RETURN NEW;
END $$;
CREATE TRIGGER employers_are_partners AFTER INSERT ON employers
    FOR EACH ROW EXECUTE FUNCTION employers_are_partners();

-- The partner's contact persons.
CREATE TABLE partner_people (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id bigint NOT NULL REFERENCES partners (id),
    name       text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    role       text NOT NULL DEFAULT '' CHECK (length(role) <= 200),
    phone      text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    email      text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    active     boolean NOT NULL DEFAULT true,
    created_by bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL
);
CREATE INDEX partner_people_partner_idx ON partner_people (partner_id);

-- A consent covers one kind of organisation (scope) or, when it names a
-- partner, that organisation only. Two new kinds: socialtjänsten, employers.
ALTER TABLE consents DROP CONSTRAINT consents_scope_check;
ALTER TABLE consents ADD CONSTRAINT consents_scope_check
    CHECK (scope IN ('home_support', 'social_insurance', 'employment_service', 'psychiatry', 'primary_care',
                     'social_services', 'employer', 'relatives', 'other'));
ALTER TABLE consents ADD COLUMN partner_id bigint REFERENCES partners (id);
-- A consent naming a partner names one of its own kind ("other" names any).
CREATE FUNCTION consent_partner_fits() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.partner_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM partners WHERE id = NEW.partner_id AND (kind = NEW.scope OR NEW.scope = 'other')) THEN
        RAISE EXCEPTION 'a consent names a partner of its own kind' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER consents_partner_fits BEFORE INSERT OR UPDATE OF partner_id, scope ON consents
    FOR EACH ROW EXECUTE FUNCTION consent_partner_fits();

-- The rule, once: consent `c` covers contact with `partner` on `on` when it
-- is the person's, given on or before that day and not withdrawn by then,
-- and names the partner or, naming none, the partner's kind ("other" must
-- name the organisation). Withdrawal stops contacts from its date on; a
-- contact recorded before stays as it was.
CREATE FUNCTION consent_covers(c consents, p_participant bigint, p_partner bigint, p_on date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT c.participant_id = p_participant
       AND c.given_on <= p_on
       AND (c.withdrawn_on IS NULL OR c.withdrawn_on > p_on)
       AND EXISTS (SELECT 1 FROM partners pa WHERE pa.id = p_partner
                   AND (c.partner_id = pa.id OR (c.partner_id IS NULL AND c.scope = pa.kind AND pa.kind <> 'other')))
$$;

-- The consent that covers a contact, if any (the one naming the partner first).
CREATE FUNCTION consent_covering(p_participant bigint, p_partner bigint, p_on date) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT c.id FROM consents c
    WHERE c.participant_id = p_participant AND consent_covers(c, p_participant, p_partner, p_on)
    ORDER BY c.partner_id NULLS LAST, c.given_on DESC, c.id
    LIMIT 1
$$;

-- Samordnad plan: one per person, made with the person and the partners
-- before a förstegsträning or Team ISA plan is activated; every save is a
-- version, and `version` is what a form was opened at (two editors cannot
-- overwrite each other).
CREATE TABLE joint_plans (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id bigint NOT NULL UNIQUE REFERENCES participants (id),
    version        integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    first_agreed_on date NOT NULL,
    created_by     bigint NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL
);

CREATE TABLE joint_plan_versions (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    joint_plan_id         bigint NOT NULL REFERENCES joint_plans (id),
    version               integer NOT NULL CHECK (version >= 1),
    agreed_on             date NOT NULL,
    participant_took_part boolean NOT NULL,
    aim                   text NOT NULL CHECK (length(btrim(aim)) BETWEEN 1 AND 4000),
    others_present        text NOT NULL DEFAULT '' CHECK (length(others_present) <= 500),
    next_review_on        date NOT NULL CHECK (next_review_on > agreed_on),
    saved_by              bigint NOT NULL REFERENCES users (id),
    saved_at              timestamptz NOT NULL,
    UNIQUE (joint_plan_id, version)
);

-- What each partner does in a version of the plan.
CREATE TABLE joint_plan_parts (
    version_id bigint NOT NULL REFERENCES joint_plan_versions (id),
    partner_id bigint NOT NULL REFERENCES partners (id),
    person     text NOT NULL DEFAULT '' CHECK (length(person) <= 200),
    task       text NOT NULL CHECK (length(btrim(task)) BETWEEN 1 AND 1000),
    PRIMARY KEY (version_id, partner_id)
);

-- Every contact with an organisation about a person, whichever form made it:
-- each stands on the consent that covered it, or on a written urgent reason
-- (listed for the manager). Never changed afterwards.
CREATE TABLE partner_contacts (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id        bigint NOT NULL REFERENCES participants (id),
    partner_id            bigint NOT NULL REFERENCES partners (id),
    contact_on            date NOT NULL,
    via                   text NOT NULL CHECK (via IN ('follow_up', 'joint_plan', 'journal', 'placement', 'employment_support')),
    follow_up_id          bigint REFERENCES follow_ups (id),
    journal_note_id       bigint REFERENCES journal_notes (id),
    joint_plan_version_id bigint REFERENCES joint_plan_versions (id),
    consent_id            bigint REFERENCES consents (id),
    urgent_reason         text CHECK (length(btrim(urgent_reason)) BETWEEN 1 AND 1000),
    recorded_by           bigint NOT NULL REFERENCES users (id),
    recorded_at           timestamptz NOT NULL,
    CHECK ((consent_id IS NULL) <> (urgent_reason IS NULL)),
    CHECK ((via = 'follow_up') = (follow_up_id IS NOT NULL)),
    CHECK ((via = 'journal') = (journal_note_id IS NOT NULL)),
    CHECK ((via = 'joint_plan') = (joint_plan_version_id IS NOT NULL))
);
CREATE INDEX partner_contacts_participant_idx ON partner_contacts (participant_id, contact_on DESC);
CREATE INDEX partner_contacts_urgent_idx ON partner_contacts (recorded_at DESC) WHERE urgent_reason IS NOT NULL;

CREATE FUNCTION partner_contacts_stand_on_consent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.consent_id IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM consents c WHERE c.id = NEW.consent_id
          AND consent_covers(c, NEW.participant_id, NEW.partner_id, NEW.contact_on)) THEN
        RAISE EXCEPTION 'no valid consent covers this partner contact' USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER partner_contacts_stand_on_consent BEFORE INSERT ON partner_contacts
    FOR EACH ROW EXECUTE FUNCTION partner_contacts_stand_on_consent();

CREATE FUNCTION partner_contacts_are_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('lotsen.disposing', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'partner contacts are never changed or deleted' USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER partner_contacts_no_update_or_delete BEFORE UPDATE OR DELETE ON partner_contacts
    FOR EACH ROW EXECUTE FUNCTION partner_contacts_are_history();
CREATE TRIGGER partner_contacts_no_truncate BEFORE TRUNCATE ON partner_contacts
    FOR EACH STATEMENT EXECUTE FUNCTION partner_contacts_are_history();
REVOKE UPDATE, DELETE, TRUNCATE ON partner_contacts FROM lotsen_app;

-- The manager's check of an urgent exception.
CREATE TABLE urgent_contact_reviews (
    contact_id  bigint PRIMARY KEY REFERENCES partner_contacts (id),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    reviewed_by bigint NOT NULL REFERENCES users (id),
    reviewed_at timestamptz NOT NULL
);

-- Gallring (migration 0032) reaches the new records: a person's last entry
-- counts their samordnad plan and partner contacts, and disposing of them
-- takes those too (the contacts point at consents, notes and follow-ups, so
-- they go first) and empties the intake they came by. Should the person turn
-- out not to be due, the savepoint undoes it all and the answer is false.
ALTER FUNCTION last_entry_on(bigint) RENAME TO last_entry_on_records;
CREATE FUNCTION last_entry_on(p bigint) RETURNS date LANGUAGE sql STABLE AS $$
    SELECT max(d) FROM (
        SELECT last_entry_on_records(p) AS d
        UNION ALL SELECT v.agreed_on FROM joint_plan_versions v JOIN joint_plans j ON j.id = v.joint_plan_id WHERE j.participant_id = p
        UNION ALL SELECT (v.saved_at AT TIME ZONE 'Europe/Stockholm')::date FROM joint_plan_versions v
                  JOIN joint_plans j ON j.id = v.joint_plan_id WHERE j.participant_id = p
        UNION ALL SELECT contact_on FROM partner_contacts WHERE participant_id = p
        UNION ALL SELECT (recorded_at AT TIME ZONE 'Europe/Stockholm')::date FROM partner_contacts WHERE participant_id = p
    ) entries
$$;

ALTER FUNCTION dispose_participant(bigint, bigint) RENAME TO dispose_participant_records;
REVOKE ALL ON FUNCTION dispose_participant_records(bigint, bigint) FROM PUBLIC, lotsen_app;

CREATE FUNCTION dispose_participant(p_id bigint, p_round bigint) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    BEGIN
        PERFORM set_config('lotsen.disposing', 'on', true);
        DELETE FROM urgent_contact_reviews r USING partner_contacts c WHERE c.id = r.contact_id AND c.participant_id = p_id;
        DELETE FROM partner_contacts WHERE participant_id = p_id;
        PERFORM set_config('lotsen.disposing', 'off', true);
        DELETE FROM joint_plan_parts x USING joint_plan_versions v, joint_plans j
            WHERE x.version_id = v.id AND v.joint_plan_id = j.id AND j.participant_id = p_id;
        DELETE FROM joint_plan_versions v USING joint_plans j WHERE v.joint_plan_id = j.id AND j.participant_id = p_id;
        DELETE FROM joint_plans WHERE participant_id = p_id;
        UPDATE intakes SET first_name = 'Gallrad', last_name = 'person', phone = '', note = '',
            close_reason = CASE WHEN close_reason = '' THEN '' ELSE 'Gallrad' END
            WHERE participant_id = p_id;
        IF NOT dispose_participant_records(p_id, p_round) THEN
            RAISE EXCEPTION 'not due' USING ERRCODE = 'LT001';
        END IF;
        RETURN true;
    EXCEPTION WHEN SQLSTATE 'LT001' THEN
        RETURN false;
    END;
END
$$;
REVOKE ALL ON FUNCTION dispose_participant(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION dispose_participant(bigint, bigint) TO lotsen_app;
