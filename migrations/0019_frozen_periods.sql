-- Fastställda perioder (issue 16): a manager freezes a month or a year of a
-- unit's report. The tables are stored as they stood, with who froze them,
-- when, and the version of the indicator definitions they were computed
-- with; the report of a frozen period shows these figures, and later
-- corrections are shown beside them, never in their place.
CREATE TABLE report_freezes (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id      bigint NOT NULL REFERENCES units (id),
    kind         text NOT NULL CHECK (kind IN ('month', 'year')),
    period_from  date NOT NULL,
    period_to    date NOT NULL,
    definitions  integer NOT NULL CHECK (definitions >= 1),
    tables       jsonb NOT NULL CHECK (jsonb_typeof(tables) = 'array'),
    frozen_by    bigint NOT NULL REFERENCES users (id),
    frozen_at    timestamptz NOT NULL,
    -- A whole calendar month or year, nothing else.
    CONSTRAINT report_freezes_whole_period CHECK (
        CASE kind
            WHEN 'month' THEN period_from = date_trunc('month', period_from)::date
                          AND period_to = (period_from + interval '1 month' - interval '1 day')::date
            ELSE period_from = date_trunc('year', period_from)::date
                 AND period_to = (period_from + interval '1 year' - interval '1 day')::date
        END),
    -- Frozen once: a second request for the same period is the same freeze.
    CONSTRAINT report_freezes_once UNIQUE (unit_id, kind, period_from)
);

-- What was frozen stays as it was.
CREATE FUNCTION report_freezes_are_permanent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'a frozen period cannot be changed or removed' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER report_freezes_no_update_or_delete BEFORE UPDATE OR DELETE ON report_freezes
    FOR EACH ROW EXECUTE FUNCTION report_freezes_are_permanent();
CREATE TRIGGER report_freezes_no_truncate BEFORE TRUNCATE ON report_freezes
    FOR EACH STATEMENT EXECUTE FUNCTION report_freezes_are_permanent();
