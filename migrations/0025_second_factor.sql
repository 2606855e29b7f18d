-- A second factor for password accounts (issue 17): TOTP (RFC 6238) with
-- recovery codes. Required for administrators and managers unless
-- LOTSEN_REQUIRE_TOTP=false.

-- The shared secret (base32) once the user has confirmed it with a code, and
-- the last time step a code was accepted for: a code works once.
ALTER TABLE users ADD COLUMN totp_secret text CHECK (totp_secret ~ '^[A-Z2-7]{32}$');
ALTER TABLE users ADD COLUMN totp_last_step bigint;

-- Ten one-time codes for when the phone is lost, kept hashed.
CREATE TABLE recovery_codes (
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL CHECK (length(code_hash) = 32),
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- The password was right, the code is still to come: a short-lived step of
-- its own, so no session exists before both factors are through.
CREATE TABLE pending_sign_ins (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    next       text NOT NULL CHECK (next LIKE '/%'),
    created_at timestamptz NOT NULL
);
CREATE INDEX pending_sign_ins_created_at_idx ON pending_sign_ins (created_at);
