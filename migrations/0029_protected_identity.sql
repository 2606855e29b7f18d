-- Skyddade personuppgifter (issue 18, point 5). A person marked so has their
-- address and contact details shown only to staff named on the person (their
-- caseload: `in_caseload`), is left out of others' lists and search hits, and
-- every read of their record is in the loggkontroll sample. Who marked or
-- cleared it, and when, is in the audit log.
ALTER TABLE participants ADD COLUMN protected_identity boolean NOT NULL DEFAULT false;
CREATE INDEX participants_protected_idx ON participants (unit_id) WHERE protected_identity;
