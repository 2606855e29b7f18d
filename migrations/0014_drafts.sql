-- Drafts: what a user typed into a form and has not yet saved, kept on the
-- server so that a timeout, a stale form token, a crash or a closed tab does
-- not lose it. A draft belongs to its author and to the form's record (the
-- form's action path names both), never to a session; one per user and form.

CREATE TABLE drafts (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- Where the form posts (/participants/12/journal) and the page that shows it (/participants/12).
    action         text NOT NULL CHECK (action LIKE '/%' AND length(action) <= 200),
    page           text NOT NULL CHECK (page LIKE '/%' AND length(page) <= 200),
    -- Whose record, when the form belongs to one: lets Att göra name the person.
    participant_id bigint REFERENCES participants (id) ON DELETE CASCADE,
    -- The form's fields as [[name, value], …], in form order, without the form token.
    fields         jsonb NOT NULL CHECK (jsonb_typeof(fields) = 'array'),
    saved_at       timestamptz NOT NULL,
    UNIQUE (user_id, action)
);
CREATE INDEX drafts_page_idx ON drafts (user_id, page);
CREATE INDEX drafts_saved_at_idx ON drafts (saved_at);

-- The form tokens of sessions that have ended (timed out, signed out, replaced
-- at sign-in), kept as hashes for as long as drafts are: a form posted with
-- such a token proves which user wrote it, so what it carries can be kept as
-- that user's draft instead of being lost. A token here opens nothing.
CREATE TABLE ended_sessions (
    csrf_token_hash bytea PRIMARY KEY CHECK (length(csrf_token_hash) = 32),
    user_id         bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- When the session was last used (the application's clock, not the database's).
    ended_at        timestamptz NOT NULL
);
CREATE INDEX ended_sessions_ended_at_idx ON ended_sessions (ended_at);

-- Every way a session ends deletes its row; this keeps its form token's hash.
CREATE FUNCTION sessions_remember_ended() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Not when the session goes because its user is being deleted.
    INSERT INTO ended_sessions (csrf_token_hash, user_id, ended_at)
    SELECT sha256(convert_to(OLD.csrf_token, 'UTF8')), OLD.user_id, greatest(OLD.last_seen_at, OLD.created_at)
    WHERE EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id)
    ON CONFLICT (csrf_token_hash) DO NOTHING;
    RETURN OLD;
END $$;

CREATE TRIGGER sessions_remember_ended
    AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_remember_ended();
