-- Loggkontroll (issue 18, point 4). Each month and unit a manager reviews a
-- sample of the access log: a random share of the reads, every read outside
-- the reader's caseload (by others than managers), every read of a person
-- with protected identity, every refused attempt, and reads of users with
-- unusually many. The sample is drawn once per unit and month; each row is
-- marked checked with a note; the sign-off is stored and then nothing in the
-- review changes.
CREATE TABLE access_reviews (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id        bigint NOT NULL REFERENCES units (id),
    month          date NOT NULL CHECK (extract(day FROM month) = 1),
    drawn_at       timestamptz NOT NULL,
    drawn_by       bigint NOT NULL REFERENCES users (id),
    reads          bigint NOT NULL CHECK (reads >= 0),
    signed_off_by  bigint REFERENCES users (id),
    signed_off_at  timestamptz,
    sign_off_note  text NOT NULL DEFAULT '' CHECK (length(sign_off_note) <= 2000),
    CONSTRAINT access_reviews_once_per_unit_and_month UNIQUE (unit_id, month),
    CONSTRAINT access_reviews_signed_off_whole CHECK ((signed_off_by IS NULL) = (signed_off_at IS NULL))
);

CREATE TABLE access_review_items (
    review_id   bigint NOT NULL REFERENCES access_reviews (id),
    access_id   bigint NOT NULL REFERENCES access_log (id),
    whys        text[] NOT NULL CHECK (cardinality(whys) > 0
                    AND whys <@ ARRAY['random', 'outside', 'protected', 'many', 'denied']),
    checked_by  bigint REFERENCES users (id),
    checked_at  timestamptz,
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
    PRIMARY KEY (review_id, access_id),
    CONSTRAINT access_review_items_checked_whole CHECK ((checked_by IS NULL) = (checked_at IS NULL))
);

-- A signed-off review is kept as it was signed.
CREATE FUNCTION access_reviews_signed_are_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'access_reviews' THEN
        IF OLD.signed_off_at IS NOT NULL THEN
            RAISE EXCEPTION 'a signed-off log review cannot be changed' USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM access_reviews r WHERE r.id = OLD.review_id AND r.signed_off_at IS NOT NULL) THEN
        RAISE EXCEPTION 'a signed-off log review cannot be changed' USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
CREATE TRIGGER access_reviews_signed_are_final BEFORE UPDATE ON access_reviews
    FOR EACH ROW EXECUTE FUNCTION access_reviews_signed_are_final();
CREATE TRIGGER access_review_items_signed_are_final BEFORE UPDATE OR DELETE ON access_review_items
    FOR EACH ROW EXECUTE FUNCTION access_reviews_signed_are_final();
