-- Plans for förstegsträning and Team ISA (issue 5): the plan with goals,
-- activities and follow-ups, the employer register, capacity per unit, the
-- waiting list, work-capacity assessments and the reminders the background
-- task raises. DOMAIN.md's rules are checked in Rust (src/plans/rules.rs) and,
-- where a single row or an index can hold them, here as well.

-- Capacity is a setting per unit; the defaults are the commission's figures
-- (DOMAIN.md: 105 h a week of förstegsträning, 6 Team ISA places).
ALTER TABLE units
    ADD COLUMN first_step_hours numeric(6, 2) NOT NULL DEFAULT 105 CHECK (first_step_hours >= 0 AND first_step_hours <= 9999),
    ADD COLUMN team_isa_places integer NOT NULL DEFAULT 6 CHECK (team_isa_places >= 0 AND team_isa_places <= 999);

-- The employer register (arbetsgivare), shared by all units.
CREATE TABLE employers (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name                text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    organisation_number text CHECK (organisation_number ~ '^[0-9]{6}-[0-9]{4}$'),
    contact_name        text NOT NULL DEFAULT '' CHECK (length(contact_name) <= 200),
    contact_phone       text NOT NULL DEFAULT '' CHECK (length(contact_phone) <= 40),
    contact_email       text NOT NULL DEFAULT '' CHECK (length(contact_email) <= 254),
    created_by          bigint NOT NULL REFERENCES users (id),
    created_at          timestamptz NOT NULL
);
CREATE UNIQUE INDEX employers_organisation_number_key ON employers (organisation_number) WHERE organisation_number IS NOT NULL;
CREATE UNIQUE INDEX employers_name_key ON employers (lower(btrim(name)));

CREATE TABLE plans (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id      bigint NOT NULL REFERENCES participants (id),
    -- The participant's unit when the plan was made: the unit whose capacity it uses.
    unit_id             bigint NOT NULL REFERENCES units (id),
    programme           text NOT NULL CHECK (programme IN ('first_step', 'team_isa')),
    status              text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'ended')),
    start_on            date NOT NULL,
    planned_end_on      date NOT NULL CHECK (planned_end_on >= start_on),
    -- DOMAIN.md: at least 4 h a week, at most one full-time place.
    weekly_hours        numeric(4, 2) NOT NULL CHECK (weekly_hours >= 4 AND weekly_hours <= 35),
    -- Monday = 1, Tuesday = 2, Wednesday = 4, … Sunday = 64.
    weekdays            smallint NOT NULL DEFAULT 31 CHECK (weekdays BETWEEN 0 AND 127),
    methods             text[] NOT NULL DEFAULT '{}'
                          CHECK (methods <@ ARRAY['supported_employment', 'ips', 'esl', 'low_arousal']::text[]),
    participation       text NOT NULL DEFAULT '' CHECK (length(participation) <= 2000),
    summary             text NOT NULL DEFAULT '' CHECK (length(summary) <= 20000),
    -- Team ISA's workplace (praktikplats).
    employer_id         bigint REFERENCES employers (id),
    supervisor          text NOT NULL DEFAULT '' CHECK (length(supervisor) <= 200),
    tasks               text NOT NULL DEFAULT '' CHECK (length(tasks) <= 2000),
    -- Fastställd: when the plan was set. Follow-ups count from it.
    set_on              date,
    renewed_on          date CHECK (renewed_on IS NULL OR renewed_on >= set_on),
    -- Kept by the application on every change, so the background task finds
    -- what is due through an index instead of walking all plans.
    next_follow_up_on   date,
    renewal_due_on      date,
    -- The day the person's two-year limit warning starts (while active), and the last allowed day.
    limit_warning_on    date,
    limit_last_day      date,
    ended_on            date,
    outcome             text CHECK (outcome IN ('employment', 'studies', 'internship', 'labour_market_measure',
                                                'reinforced_cooperation', 'back_to_day_activity', 'dropped_out',
                                                'moved', 'other')),
    outcome_note        text NOT NULL DEFAULT '' CHECK (length(outcome_note) <= 1000),
    version             integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    created_by          bigint NOT NULL REFERENCES users (id),
    created_at          timestamptz NOT NULL,
    updated_by          bigint NOT NULL REFERENCES users (id),
    updated_at          timestamptz NOT NULL,
    CONSTRAINT plans_ended_has_date_and_outcome CHECK ((status = 'ended') = (ended_on IS NOT NULL AND outcome IS NOT NULL)),
    CONSTRAINT plans_set_unless_draft CHECK (status = 'draft' OR set_on IS NOT NULL),
    -- An active plan is always due for something; the due dates of other plans
    -- are empty, so the statistics on them (and the reminder round's indexes)
    -- describe active plans only, however much history there is.
    CONSTRAINT plans_active_has_due_dates CHECK ((status = 'active') = (next_follow_up_on IS NOT NULL AND renewal_due_on IS NOT NULL)),
    CONSTRAINT plans_limit_warning_only_while_active CHECK (status = 'active' OR limit_warning_on IS NULL),
    CONSTRAINT plans_workplace_only_for_team_isa CHECK (programme = 'team_isa' OR employer_id IS NULL)
);
-- DOMAIN.md: one active plan per person and programme.
CREATE UNIQUE INDEX plans_one_active ON plans (participant_id, programme) WHERE status = 'active';
CREATE INDEX plans_participant_idx ON plans (participant_id, id);
CREATE INDEX plans_unit_active_idx ON plans (unit_id, programme) WHERE status = 'active';
CREATE INDEX plans_follow_up_due_idx ON plans (next_follow_up_on) WHERE status = 'active';
CREATE INDEX plans_renewal_due_idx ON plans (renewal_due_on) WHERE status = 'active';
CREATE INDEX plans_limit_warning_idx ON plans (limit_warning_on) WHERE status = 'active';
CREATE INDEX plans_employer_idx ON plans (employer_id) WHERE employer_id IS NOT NULL;

-- DOMAIN.md: a kontaktman is required. The kontaktman is the participant's
-- current one (key_worker_assignments), so a plan cannot become active without one.
CREATE FUNCTION plans_need_key_worker() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status = 'active' AND (TG_OP = 'INSERT' OR OLD.status <> 'active') AND NOT EXISTS (
        SELECT 1 FROM key_worker_assignments k WHERE k.participant_id = NEW.participant_id AND k.to_on IS NULL
    ) THEN
        RAISE EXCEPTION 'a plan needs a key worker before it is activated' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'plans_need_key_worker';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER plans_need_key_worker BEFORE INSERT OR UPDATE OF status ON plans
    FOR EACH ROW EXECUTE FUNCTION plans_need_key_worker();

-- Earlier versions of a plan (who, when, what), written with every change.
CREATE TABLE plan_versions (
    plan_id     bigint NOT NULL REFERENCES plans (id),
    version     integer NOT NULL,
    changed_by  bigint NOT NULL REFERENCES users (id),
    changed_at  timestamptz NOT NULL,
    change      text NOT NULL CHECK (length(change) <= 200),
    snapshot    jsonb NOT NULL,
    PRIMARY KEY (plan_id, version)
);

-- Mål (parent_id NULL) and delmål (parent_id set, under a mål of the same plan).
CREATE TABLE plan_goals (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id     bigint NOT NULL REFERENCES plans (id),
    parent_id   bigint,
    description text NOT NULL CHECK (length(btrim(description)) BETWEEN 1 AND 1000),
    created_by  bigint NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    UNIQUE (plan_id, id),
    FOREIGN KEY (plan_id, parent_id) REFERENCES plan_goals (plan_id, id)
);
CREATE INDEX plan_goals_plan_idx ON plan_goals (plan_id, id);

CREATE TABLE plan_activities (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id         bigint NOT NULL REFERENCES plans (id),
    goal_id         bigint NOT NULL,
    description     text NOT NULL CHECK (length(btrim(description)) BETWEEN 1 AND 1000),
    responsible_id  bigint NOT NULL REFERENCES users (id),
    status          text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'ongoing', 'done', 'cancelled')),
    created_by      bigint NOT NULL REFERENCES users (id),
    created_at      timestamptz NOT NULL,
    FOREIGN KEY (plan_id, goal_id) REFERENCES plan_goals (plan_id, id)
);
CREATE INDEX plan_activities_plan_idx ON plan_activities (plan_id, goal_id, id);

-- Uppföljning. Each records the due date it answered; one per plan and day,
-- so a double submit cannot record the same meeting twice.
CREATE TABLE follow_ups (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id             bigint NOT NULL REFERENCES plans (id),
    due_on              date NOT NULL,
    held_on             date NOT NULL,
    on_time             boolean GENERATED ALWAYS AS (held_on <= due_on) STORED,
    participant_took_part boolean NOT NULL,
    staff_present       text NOT NULL DEFAULT '' CHECK (length(staff_present) <= 500),
    partners            text[] NOT NULL DEFAULT '{}'
                          CHECK (partners <@ ARRAY['home_support', 'social_insurance', 'employment_service', 'psychiatry', 'primary_care', 'relatives', 'other']::text[]),
    partners_without_consent text[] NOT NULL DEFAULT '{}',
    notes               text NOT NULL DEFAULT '' CHECK (length(notes) <= 20000),
    weekly_hours_before numeric(4, 2) NOT NULL,
    weekly_hours_after  numeric(4, 2) NOT NULL CHECK (weekly_hours_after >= 4 AND weekly_hours_after <= 35),
    next_due_on         date NOT NULL CHECK (next_due_on > held_on),
    recorded_by         bigint NOT NULL REFERENCES users (id),
    recorded_at         timestamptz NOT NULL,
    UNIQUE (plan_id, held_on)
);
CREATE INDEX follow_ups_held_idx ON follow_ups (held_on);

CREATE TABLE follow_up_progress (
    follow_up_id bigint NOT NULL REFERENCES follow_ups (id),
    goal_id      bigint NOT NULL REFERENCES plan_goals (id),
    progress     text NOT NULL CHECK (progress IN ('not_started', 'some', 'clear', 'reached')),
    PRIMARY KEY (follow_up_id, goal_id)
);

-- Kö: a plan that did not fit the unit's capacity waits here, ordered by date.
CREATE TABLE queue_entries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id         bigint NOT NULL REFERENCES plans (id),
    unit_id         bigint NOT NULL REFERENCES units (id),
    programme       text NOT NULL CHECK (programme IN ('first_step', 'team_isa')),
    queued_on       date NOT NULL,
    queued_at       timestamptz NOT NULL,
    queued_by       bigint NOT NULL REFERENCES users (id),
    closed_on       date,
    closed_reason   text CHECK (closed_reason IN ('activated', 'removed')),
    closed_note     text NOT NULL DEFAULT '' CHECK (length(closed_note) <= 1000),
    closed_by       bigint REFERENCES users (id),
    CHECK ((closed_on IS NULL) = (closed_reason IS NULL)),
    CHECK (closed_reason IS DISTINCT FROM 'removed' OR length(btrim(closed_note)) > 0)
);
CREATE UNIQUE INDEX queue_entries_one_open ON queue_entries (plan_id) WHERE closed_on IS NULL;
CREATE INDEX queue_entries_waiting_idx ON queue_entries (unit_id, programme, queued_at) WHERE closed_on IS NULL;

-- Bedömning av arbetsförmåga: anyone may write it, only an arbetsterapeut signs.
CREATE TABLE capacity_assessments (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id         bigint NOT NULL REFERENCES plans (id),
    assessed_on     date NOT NULL,
    method          text NOT NULL DEFAULT '' CHECK (length(method) <= 300),
    assessment      text NOT NULL CHECK (length(btrim(assessment)) BETWEEN 1 AND 20000),
    written_by      bigint NOT NULL REFERENCES users (id),
    written_at      timestamptz NOT NULL,
    signed_by       bigint REFERENCES users (id),
    signed_at       timestamptz,
    CHECK ((signed_by IS NULL) = (signed_at IS NULL))
);
CREATE INDEX capacity_assessments_plan_idx ON capacity_assessments (plan_id, id);

CREATE FUNCTION capacity_assessments_signed_by_occupational_therapist() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.signed_by IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM users u WHERE u.id = NEW.signed_by AND lower(btrim(u.job_title)) = 'arbetsterapeut'
    ) THEN
        RAISE EXCEPTION 'only an occupational therapist signs a work-capacity assessment' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'capacity_assessments_signer_title';
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.signed_by IS NOT NULL THEN
        RAISE EXCEPTION 'a signed assessment is not changed' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'capacity_assessments_signed_is_final';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER capacity_assessments_signer BEFORE INSERT OR UPDATE ON capacity_assessments
    FOR EACH ROW EXECUTE FUNCTION capacity_assessments_signed_by_occupational_therapist();

-- Påminnelser raised by the background task: one per plan, kind and due date.
CREATE TABLE reminders (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    plan_id         bigint NOT NULL REFERENCES plans (id),
    unit_id         bigint NOT NULL REFERENCES units (id),
    participant_id  bigint NOT NULL REFERENCES participants (id),
    kind            text NOT NULL CHECK (kind IN ('follow_up', 'renewal', 'two_year_limit')),
    due_on          date NOT NULL,
    raised_at       timestamptz NOT NULL,
    cleared_at      timestamptz,
    UNIQUE (plan_id, kind, due_on)
);
CREATE INDEX reminders_open_unit_idx ON reminders (unit_id, due_on) WHERE cleared_at IS NULL;
CREATE INDEX reminders_open_participant_idx ON reminders (participant_id) WHERE cleared_at IS NULL;
CREATE INDEX reminders_open_plan_idx ON reminders (plan_id) WHERE cleared_at IS NULL;

-- The daily e-mail digest goes to each kontaktman once a day, whichever instance sends it.
CREATE TABLE reminder_digests (
    user_id  bigint NOT NULL REFERENCES users (id),
    sent_on  date NOT NULL,
    sent_at  timestamptz NOT NULL,
    PRIMARY KEY (user_id, sent_on)
);
