-- Facts over time are corrected, not overwritten (issue 15).

-- (A consent withdrawn before it was given is refused by consents_check of
-- migration 0003; the form now says so instead of storing another date.)

-- Boendestöd: one value per person and date. A wrong value is corrected by a
-- new row; the old one stays, marked corrected, by whom, when and why.
ALTER TABLE home_support_entries
    ADD COLUMN corrected_at timestamptz,
    ADD COLUMN corrected_by bigint REFERENCES users (id),
    ADD COLUMN correction_reason text NOT NULL DEFAULT '' CHECK (length(correction_reason) <= 1000),
    ADD CONSTRAINT home_support_entries_correction_complete CHECK (
        (corrected_at IS NULL) = (corrected_by IS NULL)
        AND (corrected_at IS NULL OR btrim(correction_reason) <> ''));

-- Two values kept for one date before this: the later one stands.
UPDATE home_support_entries e
SET corrected_at = l.recorded_at, corrected_by = l.recorded_by,
    correction_reason = 'Två värden för samma datum registrerades innan rättelser fanns; det senare gäller.'
FROM home_support_entries l
WHERE l.participant_id = e.participant_id AND l.valid_from = e.valid_from AND l.id > e.id
  AND l.id = (SELECT max(m.id) FROM home_support_entries m
              WHERE m.participant_id = e.participant_id AND m.valid_from = e.valid_from);

CREATE UNIQUE INDEX home_support_entries_one_per_date
    ON home_support_entries (participant_id, valid_from) WHERE corrected_at IS NULL;
