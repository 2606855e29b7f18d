-- Foundation: units, users and their unit memberships, server-side sessions,
-- sign-in attempts (for throttling) and the append-only audit log.
-- Timestamps are always written by the application from its injectable clock,
-- so no column defaults to now(): rules stay testable.

CREATE TABLE units (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 120),
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL
);
-- Two units with the same name (ignoring case) would be confused on screen.
CREATE UNIQUE INDEX units_name_key ON units (lower(name));

CREATE TABLE users (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email               text NOT NULL CHECK (email = lower(email) AND email LIKE '%_@_%' AND length(email) <= 254),
    name                text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 120),
    -- e.g. stödpedagog, arbetsterapeut: shown beside the name, not used for access.
    job_title           text NOT NULL DEFAULT '' CHECK (length(job_title) <= 80),
    role                text NOT NULL CHECK (role IN ('admin', 'manager', 'staff')),
    password_hash       text NOT NULL,
    active              boolean NOT NULL DEFAULT true,
    created_at          timestamptz NOT NULL,
    password_changed_at timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_email_key ON users (email);

CREATE TABLE unit_memberships (
    user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    unit_id bigint NOT NULL REFERENCES units (id),
    PRIMARY KEY (user_id, unit_id)
);
CREATE INDEX unit_memberships_unit_idx ON unit_memberships (unit_id);

-- Sessions live in PostgreSQL so that several app instances share them.
-- Only a SHA-256 of the cookie's token is stored: a copy of this table
-- cannot be replayed as cookies.
CREATE TABLE sessions (
    token_hash   bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_last_seen_idx ON sessions (last_seen_at);

-- Every sign-in attempt, kept for a short time: failures per account and per
-- client address within a window lead to a lockout (ASVS 2.2.1).
CREATE TABLE login_attempts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email        text NOT NULL,
    client_addr  text NOT NULL,
    attempted_at timestamptz NOT NULL,
    succeeded    boolean NOT NULL
);
CREATE INDEX login_attempts_email_idx ON login_attempts (email, attempted_at);
CREATE INDEX login_attempts_client_idx ON login_attempts (client_addr, attempted_at);

-- Who did what, when, to which record. Later features write here; nothing
-- may change or remove a row (enforced below, not only by convention).
CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    occurred_at   timestamptz NOT NULL,
    actor_user_id bigint REFERENCES users (id),
    action        text NOT NULL CHECK (length(action) BETWEEN 1 AND 80),
    record_type   text,
    record_id     bigint,
    details       text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_record_idx ON audit_log (record_type, record_id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_user_id, occurred_at);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();
