-- Närstående and företrädare change over time: a new number, a new god man,
-- a relation that ends. A change is kept as a new version (the earlier ones
-- stay readable) and an ended one stays, marked ended; nothing is deleted.

ALTER TABLE relatives
    ADD COLUMN version    integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    ADD COLUMN ended_on   date,
    ADD COLUMN ended_by   bigint REFERENCES users (id),
    ADD CONSTRAINT relatives_ended_by_whom CHECK ((ended_on IS NULL) = (ended_by IS NULL)),
    ADD CONSTRAINT relatives_ended_after_added CHECK (ended_on IS NULL OR ended_on >= (created_at AT TIME ZONE 'Europe/Stockholm')::date);

-- Every version of a närstående as it was saved, with who saved it and when.
CREATE TABLE relative_versions (
    relative_id bigint NOT NULL REFERENCES relatives (id),
    version     integer NOT NULL CHECK (version >= 1),
    kind        text NOT NULL,
    name        text NOT NULL,
    relation    text NOT NULL,
    phone       text NOT NULL,
    email       text NOT NULL,
    note        text NOT NULL,
    ended_on    date,
    changed_by  bigint NOT NULL REFERENCES users (id),
    changed_at  timestamptz NOT NULL,
    PRIMARY KEY (relative_id, version)
);

INSERT INTO relative_versions (relative_id, version, kind, name, relation, phone, email, note, ended_on, changed_by, changed_at)
SELECT id, 1, kind, name, relation, phone, email, note, NULL, created_by, created_at FROM relatives;

-- A saved version is history: never changed or removed.
CREATE FUNCTION relative_versions_are_history() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'relative_versions are never changed or deleted' USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER relative_versions_are_history
    BEFORE UPDATE OR DELETE ON relative_versions
    FOR EACH ROW EXECUTE FUNCTION relative_versions_are_history();
