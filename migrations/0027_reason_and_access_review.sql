-- A reason to open a personakt outside one's own caseload (issue 18, point 3).
--
-- The caseload: the people a user is kontaktman for now, and the people on
-- whose plan (not ended) the user is named as responsible for an activity.
-- The rule lives here once; Rust asks it (`access::reason`).
CREATE FUNCTION in_caseload(p_user bigint, p_participant bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
               SELECT 1 FROM key_worker_assignments k
               WHERE k.participant_id = p_participant AND k.user_id = p_user AND k.to_on IS NULL)
        OR EXISTS (
               SELECT 1 FROM plans pl JOIN plan_activities a ON a.plan_id = pl.id
               WHERE pl.participant_id = p_participant AND pl.status <> 'ended' AND a.responsible_id = p_user)
$$;

-- Each read says whether it was inside the reader's caseload, and the reason
-- given when it was not. Rows from before this migration have neither.
ALTER TABLE access_log ADD COLUMN in_caseload boolean;
ALTER TABLE access_log ADD COLUMN reason text
    CHECK (reason IN ('covering', 'team', 'activity', 'urgent', 'other'));
ALTER TABLE access_log ADD COLUMN reason_note text CHECK (length(reason_note) <= 500);

-- The reason a user gave for one person, asked once per person per session:
-- it goes with the session when that ends.
CREATE TABLE access_reasons (
    session_hash   bytea NOT NULL REFERENCES sessions (token_hash) ON DELETE CASCADE,
    participant_id bigint NOT NULL REFERENCES participants (id) ON DELETE CASCADE,
    reason         text NOT NULL CHECK (reason IN ('covering', 'team', 'activity', 'urgent', 'other')),
    note           text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    given_at       timestamptz NOT NULL,
    PRIMARY KEY (session_hash, participant_id),
    CONSTRAINT access_reasons_other_is_described CHECK (reason <> 'other' OR length(btrim(note)) > 0)
);

-- The access log's filters (person by name or number, user, reason, dates)
-- are kept like other searches, so no name or number is in a URL.
ALTER TABLE searches DROP CONSTRAINT searches_kind_check;
ALTER TABLE searches ADD CONSTRAINT searches_kind_check CHECK (kind IN ('participants', 'visits', 'access_log'));
