-- Registerutdrag (issue 18, point 1; GDPR art. 15). A manager registers a
-- person's request (the day it came, how the identity was checked), produces
-- everything held about the person as a printable page and an archive, and
-- marks it delivered. The deadline is a month from the request; until it is
-- delivered the request is on the manager's Att göra.
CREATE TABLE register_extract_requests (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id bigint NOT NULL REFERENCES participants (id),
    received_on    date NOT NULL,
    identity_check text NOT NULL CHECK (length(btrim(identity_check)) BETWEEN 1 AND 500),
    registered_by  bigint NOT NULL REFERENCES users (id),
    registered_at  timestamptz NOT NULL,
    delivered_on   date,
    delivered_by   bigint REFERENCES users (id),
    delivered_at   timestamptz,
    CONSTRAINT register_extract_requests_delivered_whole
        CHECK ((delivered_on IS NULL) = (delivered_by IS NULL) AND (delivered_by IS NULL) = (delivered_at IS NULL)),
    CONSTRAINT register_extract_requests_delivered_after_received CHECK (delivered_on IS NULL OR delivered_on >= received_on)
);
CREATE INDEX register_extract_requests_participant_idx ON register_extract_requests (participant_id);
CREATE INDEX register_extract_requests_open_idx ON register_extract_requests (received_on) WHERE delivered_on IS NULL;

-- Producing an extract reads the whole record: logged as its own kind of read.
ALTER TABLE access_log DROP CONSTRAINT access_log_action_check;
ALTER TABLE access_log ADD CONSTRAINT access_log_action_check
    CHECK (action IN ('view', 'search', 'print', 'denied', 'report_list', 'register_extract')) NOT VALID;
ALTER TABLE access_log VALIDATE CONSTRAINT access_log_action_check;
