-- Brukarundersökning (issue 19, point 6): a yearly survey per unit. Answers
-- are anonymous: no name, no account, no day or time, nothing that links an
-- answer to the one-time code it was given with. A code is stored only as
-- its hash and is used once: it is deleted in the transaction that saves the
-- answer, leaving no date or mark of its use.

CREATE TABLE surveys (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id    bigint NOT NULL REFERENCES units (id),
    year       integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    created_by bigint NOT NULL REFERENCES users (id),
    created_at timestamptz NOT NULL,
    UNIQUE (unit_id, year)
);

-- One answer. Scales are 1–5 (the index is `domain::survey`); a question
-- left unanswered is NULL. How it was entered: from a paper form by staff,
-- or by the participant on the tablet with a code.
CREATE TABLE survey_answers (
    -- Random, not a sequence: the order of answers says nothing.
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    survey_id     bigint NOT NULL REFERENCES surveys (id),
    gender        text NOT NULL CHECK (gender IN ('woman', 'man', 'other_or_unstated')),
    satisfaction  smallint CHECK (satisfaction BETWEEN 1 AND 5),
    competence    smallint CHECK (competence BETWEEN 1 AND 5),
    respect       smallint CHECK (respect BETWEEN 1 AND 5),
    knows_where_to_complain boolean,
    entered       text NOT NULL CHECK (entered IN ('paper', 'tablet'))
);
CREATE INDEX survey_answers_survey_idx ON survey_answers (survey_id);

CREATE TABLE survey_codes (
    code_hash  bytea PRIMARY KEY,
    survey_id  bigint NOT NULL REFERENCES surveys (id),
    created_on date NOT NULL
);
CREATE INDEX survey_codes_survey_idx ON survey_codes (survey_id);

CREATE CONSTRAINT TRIGGER survey_answers_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON survey_answers
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
