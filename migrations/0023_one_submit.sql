-- One submit, one record (issue 17). Every form that changes something
-- carries a one-time token. The first submit that keeps work claims it here,
-- in the same transaction as the work, with where its answer sent the user;
-- `token` is a hash of the token and what the form held, so a form brought
-- back and changed is a new submit. The same submit again (a double click, a
-- retry after a lost answer) finds its row and is answered with that place
-- instead of doing the work again; two at the same moment meet at the
-- primary key, and the second waits and then keeps nothing.
CREATE TABLE submissions (
    token    text PRIMARY KEY CHECK (token ~ '^[A-Za-z0-9_-]{16,64}$'),
    user_id  bigint NOT NULL REFERENCES users (id),
    made_at  timestamptz NOT NULL,
    location text NOT NULL CHECK (location LIKE '/%')
);

-- Old tokens are removed with the expired sessions they belonged to.
CREATE INDEX submissions_made_at ON submissions (made_at);
