-- Follow-ups recorded before their written summary was required can be
-- completed: the summary is added once, with who added it and when, so the
-- record shows it was written afterwards. (A renewal is completed by the
-- plan_renewals row of its date, whose recorded_at says when.)

ALTER TABLE follow_ups
    ADD COLUMN completed_by bigint REFERENCES users (id),
    ADD COLUMN completed_at timestamptz,
    ADD CONSTRAINT follow_ups_completed_by_whom CHECK ((completed_by IS NULL) = (completed_at IS NULL));
