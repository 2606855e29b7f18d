-- A search, kept for the session that made it, so that its results are a page
-- of their own (POST, then a redirect, then GET): Back and reload work, and
-- the URL holds only this random id, never a name or a number. A search goes
-- with its session.

CREATE TABLE searches (
    id           uuid PRIMARY KEY,
    session_hash bytea NOT NULL REFERENCES sessions (token_hash) ON DELETE CASCADE,
    -- Which list: 'participants' (Deltagare) or 'visits' (Dagens besök).
    kind         text NOT NULL CHECK (kind IN ('participants', 'visits')),
    -- The search form's fields as [[name, value], …], without the form token.
    terms        jsonb NOT NULL CHECK (jsonb_typeof(terms) = 'array'),
    created_at   timestamptz NOT NULL
);
CREATE INDEX searches_session_idx ON searches (session_hash);
