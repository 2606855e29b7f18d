-- Participants (deltagare) and everything on their record (personakt):
-- kontaktman history, status history, home support (boendestöd) history,
-- relatives and representatives, consents, the journal with corrections,
-- and the access log of every read. Rules the database can hold are here as
-- constraints and triggers, besides the checks in Rust.

-- Trigram search on names (fast "contains" search at 10 000 people), and
-- GiST on scalars for the no-overlap rule on kontaktman periods. Both are
-- trusted extensions: the database owner may create them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE participants (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id                 bigint NOT NULL REFERENCES units (id),
    first_name              text NOT NULL CHECK (length(btrim(first_name)) BETWEEN 1 AND 100),
    last_name               text NOT NULL CHECK (length(btrim(last_name)) BETWEEN 1 AND 100),
    identity_kind           text NOT NULL CHECK (identity_kind IN ('personnummer', 'samordningsnummer', 'reservnummer', 'none')),
    -- Personnummer and samordningsnummer as 12 digits; a reservnummer as given.
    identity_number         text,
    -- Derived from the number, or typed when there is none (DOMAIN.md: adults only).
    birth_date              date NOT NULL,
    gender                  text NOT NULL CHECK (gender IN ('woman', 'man', 'other_or_unstated')),
    phone                   text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    email                   text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    address                 text NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    -- Folkbokförd i kommunen; exceptions need a recorded reason (seed 000).
    resident                boolean NOT NULL,
    non_resident_reason     text NOT NULL DEFAULT '' CHECK (length(non_resident_reason) <= 500),
    referral_source         text NOT NULL CHECK (referral_source IN
                              ('self', 'relative', 'representative', 'psychiatry', 'primary_care', 'social_services', 'home_support', 'other')),
    first_contact_on        date,
    first_visit_on          date,
    has_coordinated_plan    boolean NOT NULL DEFAULT false,
    coordinated_plan_on     date,
    coordinated_plan_lead   text NOT NULL DEFAULT '' CHECK (length(coordinated_plan_lead) <= 200),
    coordinated_plan_next_follow_up date,
    status                  text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'dormant', 'ended')),
    ended_on                date,
    end_reason              text CHECK (end_reason IN ('moved_on', 'own_choice', 'moved_away', 'no_contact', 'other_effort', 'deceased', 'other')),
    -- Current boendestöd, kept equal to the latest home_support_entries row
    -- in the same transaction; lists filter on it.
    has_home_support        boolean NOT NULL DEFAULT false,
    -- Optimistic locking: an edit names the version it started from.
    version                 integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_at              timestamptz NOT NULL,
    updated_at              timestamptz NOT NULL,
    search_name             text GENERATED ALWAYS AS (lower(first_name || ' ' || last_name)) STORED,
    CONSTRAINT participants_number_matches_kind CHECK (
        CASE identity_kind
            WHEN 'none' THEN identity_number IS NULL
            WHEN 'reservnummer' THEN identity_number IS NOT NULL AND length(identity_number) BETWEEN 1 AND 20
            ELSE identity_number ~ '^[0-9]{12}$'
        END),
    CONSTRAINT participants_reason_when_not_resident CHECK (resident OR length(btrim(non_resident_reason)) > 0),
    CONSTRAINT participants_ended_has_date_and_reason CHECK ((status = 'ended') = (ended_on IS NOT NULL AND end_reason IS NOT NULL)),
    CONSTRAINT participants_plan_lead_when_plan CHECK (has_coordinated_plan OR (coordinated_plan_on IS NULL AND coordinated_plan_next_follow_up IS NULL))
);
-- One record per person and unit.
CREATE UNIQUE INDEX participants_identity_key ON participants (unit_id, identity_number) WHERE identity_number IS NOT NULL;
CREATE INDEX participants_name_trgm_idx ON participants USING gin (search_name gin_trgm_ops);
CREATE INDEX participants_number_prefix_idx ON participants (identity_number text_pattern_ops) WHERE identity_number IS NOT NULL;
-- The list is in name order across the user's units: walk this index and stop after a page.
CREATE INDEX participants_name_order_idx ON participants (last_name, first_name, id);
-- Counting a unit's participants (by status, by boendestöd) from the index alone.
CREATE INDEX participants_unit_status_idx ON participants (unit_id, status, has_home_support);

-- Every saved state of a participant's own fields, so a refused stale edit
-- can show what the other person changed, and who.
CREATE TABLE participant_versions (
    participant_id bigint NOT NULL REFERENCES participants (id),
    version        integer NOT NULL,
    changed_by     bigint REFERENCES users (id),
    changed_at     timestamptz NOT NULL,
    first_name     text NOT NULL,
    last_name      text NOT NULL,
    identity_kind  text NOT NULL,
    identity_number text,
    birth_date     date NOT NULL,
    gender         text NOT NULL,
    phone          text NOT NULL,
    email          text NOT NULL,
    address        text NOT NULL,
    resident       boolean NOT NULL,
    non_resident_reason text NOT NULL,
    referral_source text NOT NULL,
    first_contact_on date,
    first_visit_on date,
    has_coordinated_plan boolean NOT NULL,
    coordinated_plan_on date,
    coordinated_plan_lead text NOT NULL,
    coordinated_plan_next_follow_up date,
    PRIMARY KEY (participant_id, version)
);

-- Status changes: ending (with date and reason) and coming back are kept on
-- the same record as a history.
CREATE TABLE participant_status_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id bigint NOT NULL REFERENCES participants (id),
    status         text NOT NULL CHECK (status IN ('active', 'dormant', 'ended')),
    effective_on   date NOT NULL,
    end_reason     text,
    note           text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    changed_by     bigint NOT NULL REFERENCES users (id),
    changed_at     timestamptz NOT NULL,
    CHECK ((status = 'ended') = (end_reason IS NOT NULL))
);
CREATE INDEX participant_status_events_participant_idx ON participant_status_events (participant_id, id);

-- Kontaktman: one appointed staff member at a time, with history. The open
-- period (to_on IS NULL) is the single source of truth for "current".
CREATE TABLE key_worker_assignments (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id bigint NOT NULL REFERENCES participants (id),
    user_id        bigint NOT NULL REFERENCES users (id),
    from_on        date NOT NULL,
    to_on          date CHECK (to_on IS NULL OR to_on >= from_on),
    assigned_by    bigint NOT NULL REFERENCES users (id),
    assigned_at    timestamptz NOT NULL,
    CONSTRAINT key_worker_periods_do_not_overlap
        EXCLUDE USING gist (participant_id WITH =, daterange(from_on, to_on, '[]') WITH &&)
);
CREATE UNIQUE INDEX key_worker_one_current ON key_worker_assignments (participant_id) WHERE to_on IS NULL;
CREATE INDEX key_worker_current_by_user ON key_worker_assignments (user_id) WHERE to_on IS NULL;

-- Boendestöd as a dated history, so its change can be reported.
CREATE TABLE home_support_entries (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id bigint NOT NULL REFERENCES participants (id),
    valid_from     date NOT NULL,
    has_support    boolean NOT NULL,
    provider       text NOT NULL DEFAULT '' CHECK (length(provider) <= 200),
    hours_per_week numeric(5, 2) CHECK (hours_per_week >= 0 AND hours_per_week <= 168),
    recorded_by    bigint NOT NULL REFERENCES users (id),
    recorded_at    timestamptz NOT NULL,
    CHECK (has_support OR hours_per_week IS NULL OR hours_per_week = 0)
);
CREATE INDEX home_support_entries_participant_idx ON home_support_entries (participant_id, valid_from DESC, id DESC);

CREATE TABLE relatives (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id bigint NOT NULL REFERENCES participants (id),
    kind           text NOT NULL CHECK (kind IN ('relative', 'representative')),
    name           text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    relation       text NOT NULL DEFAULT '' CHECK (length(relation) <= 100),
    phone          text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    email          text NOT NULL DEFAULT '' CHECK (length(email) <= 254),
    note           text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    created_by     bigint NOT NULL REFERENCES users (id),
    created_at     timestamptz NOT NULL
);
CREATE INDEX relatives_participant_idx ON relatives (participant_id);

CREATE TABLE consents (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id bigint NOT NULL REFERENCES participants (id),
    scope          text NOT NULL CHECK (scope IN ('home_support', 'social_insurance', 'employment_service', 'psychiatry', 'primary_care', 'relatives', 'other')),
    scope_note     text NOT NULL DEFAULT '' CHECK (length(scope_note) <= 300),
    given_on       date NOT NULL,
    withdrawn_on   date CHECK (withdrawn_on IS NULL OR withdrawn_on >= given_on),
    recorded_by    bigint NOT NULL REFERENCES users (id),
    recorded_at    timestamptz NOT NULL
);
CREATE INDEX consents_participant_idx ON consents (participant_id);

-- The journal. A saved note is never changed or deleted: a correction
-- (rättelse) is a new note pointing at the one it corrects, and each note is
-- corrected at most once, so versions form one chain.
CREATE TABLE journal_notes (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id bigint NOT NULL REFERENCES participants (id),
    event_on       date NOT NULL,
    note_type      text NOT NULL CHECK (note_type IN ('event', 'conversation', 'follow_up', 'cooperation', 'other', 'disputed')),
    body           text NOT NULL CHECK (length(btrim(body)) BETWEEN 1 AND 20000),
    author_id      bigint NOT NULL REFERENCES users (id),
    -- As they were when the note was written: a later change of name or title does not rewrite history.
    author_name    text NOT NULL,
    author_title   text NOT NULL,
    created_at     timestamptz NOT NULL,
    corrects_id    bigint UNIQUE,
    correction_reason text CHECK (length(correction_reason) <= 1000),
    -- "Den enskilde anser uppgiften oriktig": linked to the note it disputes.
    disputes_id    bigint,
    -- A correction or a dispute points at a note of the same participant.
    UNIQUE (participant_id, id),
    FOREIGN KEY (participant_id, corrects_id) REFERENCES journal_notes (participant_id, id),
    FOREIGN KEY (participant_id, disputes_id) REFERENCES journal_notes (participant_id, id),
    CHECK ((corrects_id IS NULL) = (correction_reason IS NULL)),
    CHECK ((note_type = 'disputed') = (disputes_id IS NOT NULL))
);
CREATE INDEX journal_notes_participant_idx ON journal_notes (participant_id, event_on DESC, id DESC);

CREATE FUNCTION journal_notes_are_permanent() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'journal notes are never changed or deleted; write a correction';
END;
$$;
CREATE TRIGGER journal_notes_no_update_or_delete
    BEFORE UPDATE OR DELETE ON journal_notes
    FOR EACH ROW EXECUTE FUNCTION journal_notes_are_permanent();
CREATE TRIGGER journal_notes_no_truncate
    BEFORE TRUNCATE ON journal_notes
    FOR EACH STATEMENT EXECUTE FUNCTION journal_notes_are_permanent();

-- Who read whose record (åtkomstlogg): every view, search hit and print of
-- a personakt, and every refused attempt. Append-only like audit_log.
CREATE TABLE access_log (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at    timestamptz NOT NULL,
    user_id        bigint NOT NULL REFERENCES users (id),
    user_role      text NOT NULL,
    unit_id        bigint REFERENCES units (id),
    participant_id bigint REFERENCES participants (id),
    action         text NOT NULL CHECK (action IN ('view', 'search', 'print', 'denied'))
);
CREATE INDEX access_log_participant_idx ON access_log (participant_id, occurred_at DESC);
CREATE INDEX access_log_unit_idx ON access_log (unit_id, occurred_at DESC);
CREATE INDEX access_log_user_idx ON access_log (user_id, occurred_at DESC);

CREATE TRIGGER access_log_no_update_or_delete
    BEFORE UPDATE OR DELETE ON access_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER access_log_no_truncate
    BEFORE TRUNCATE ON access_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
