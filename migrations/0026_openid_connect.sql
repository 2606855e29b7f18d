-- Sign-in through the municipality's identity provider with OpenID Connect
-- (issue 17). An account is matched by the provider's subject (`sub`): a
-- stable id of at most 255 ASCII characters, entered by an administrator.
ALTER TABLE users ADD COLUMN oidc_subject text UNIQUE CHECK (oidc_subject ~ '^[!-~]{1,255}$');

-- A session started through the provider: its sign-in was the strong one, so
-- it asks for no TOTP code and no change of a password it never used.
ALTER TABLE sessions ADD COLUMN external boolean NOT NULL DEFAULT false;

-- A sign-in sent to the provider and not yet back: the state (hashed; the
-- browser holds it in a cookie too), the nonce the ID token must carry and
-- the PKCE verifier. Taken once, whatever the answer; kept at most an hour.
CREATE TABLE oidc_sign_ins (
    state_hash    bytea PRIMARY KEY CHECK (length(state_hash) = 32),
    nonce         text NOT NULL CHECK (length(nonce) BETWEEN 16 AND 200),
    pkce_verifier text NOT NULL CHECK (length(pkce_verifier) BETWEEN 43 AND 128),
    next          text NOT NULL CHECK (next LIKE '/%'),
    created_at    timestamptz NOT NULL
);
CREATE INDEX oidc_sign_ins_created_at_idx ON oidc_sign_ins (created_at);
