-- Sign-in that can't be used against users (issue 17).

-- An attempt refused because of a lockout is kept (so bursts are still
-- seen) but no longer counts: trying during a lock does not extend it.
ALTER TABLE login_attempts ADD COLUMN refused boolean NOT NULL DEFAULT false;
-- Failures are counted per account and address together (the lock that
-- stops one guesser), per account, and per address.
CREATE INDEX login_attempts_pair_idx ON login_attempts (email, client_addr, attempted_at);

-- An administrator lifted the account's lock: failures before this count no more.
ALTER TABLE users ADD COLUMN sign_in_unlocked_at timestamptz;
-- A password set by an administrator must be changed at the first sign-in.
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;

-- "Mina inloggningar": a handle for a session that is not its secret, and
-- the device it was opened on (browser and system, from the User-Agent).
ALTER TABLE sessions ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;
CREATE UNIQUE INDEX sessions_id_idx ON sessions (id);
ALTER TABLE sessions ADD COLUMN device text NOT NULL DEFAULT '' CHECK (length(device) <= 100);
