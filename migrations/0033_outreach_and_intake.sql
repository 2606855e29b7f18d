-- The way in (issue 19, point 1): uppsökande verksamhet, informationsträffar
-- and studiebesök, and intresseanmälningar with the waiting time to a first
-- visit. None of these people is registered yet, so each record belongs to
-- its unit, not to a participant.

-- One outreach contact with someone not (yet) registered. "Who" is a short
-- description (initials, an age), not an identity; gender and boendestöd are
-- kept for the yearly report's counts and the priority group.
CREATE TABLE outreach_contacts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id      bigint NOT NULL REFERENCES units (id),
    contact_on   date NOT NULL,
    person       text NOT NULL CHECK (length(btrim(person)) BETWEEN 1 AND 200),
    gender       text NOT NULL CHECK (gender IN ('woman', 'man', 'other_or_unstated')),
    home_support boolean NOT NULL,
    place        text NOT NULL CHECK (place IN ('home_support_visit', 'psychiatry', 'social_services', 'meeting_place', 'home', 'other')),
    place_note   text NOT NULL DEFAULT '' CHECK (length(place_note) <= 200),
    staff_id     bigint NOT NULL REFERENCES users (id),
    outcome      text NOT NULL CHECK (outcome IN ('intake', 'later', 'information', 'declined', 'not_reached')),
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    recorded_by  bigint NOT NULL REFERENCES users (id),
    recorded_at  timestamptz NOT NULL
);
CREATE INDEX outreach_contacts_unit_idx ON outreach_contacts (unit_id, contact_on DESC, id DESC);

-- Informationsträffar and studiebesök, with counts of those who came.
CREATE TABLE information_meetings (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id         bigint NOT NULL REFERENCES units (id),
    held_on         date NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('information_meeting', 'study_visit')),
    topic           text NOT NULL CHECK (length(btrim(topic)) BETWEEN 1 AND 200),
    attendees_women integer NOT NULL CHECK (attendees_women BETWEEN 0 AND 10000),
    attendees_men   integer NOT NULL CHECK (attendees_men BETWEEN 0 AND 10000),
    attendees_other integer NOT NULL CHECK (attendees_other BETWEEN 0 AND 10000),
    led_by          bigint NOT NULL REFERENCES users (id),
    recorded_by     bigint NOT NULL REFERENCES users (id),
    recorded_at     timestamptz NOT NULL,
    CHECK (attendees_women + attendees_men + attendees_other > 0)
);
CREATE INDEX information_meetings_unit_idx ON information_meetings (unit_id, held_on DESC, id DESC);

-- Intresseanmälan: someone who wants to come, from themselves or on another's
-- word. `received_on` is the first contact: registering the person from the
-- intake keeps it as the participant's first contact. An intake is open until
-- the person is registered (one participant, once) or it is closed with a reason.
CREATE TABLE intakes (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id        bigint NOT NULL REFERENCES units (id),
    received_on    date NOT NULL,
    source         text NOT NULL CHECK (source IN ('self', 'relative', 'representative', 'psychiatry', 'primary_care', 'social_services', 'home_support', 'other')),
    first_name     text NOT NULL CHECK (length(btrim(first_name)) BETWEEN 1 AND 100),
    last_name      text NOT NULL CHECK (length(btrim(last_name)) BETWEEN 1 AND 100),
    phone          text NOT NULL DEFAULT '' CHECK (length(phone) <= 40),
    gender         text NOT NULL CHECK (gender IN ('woman', 'man', 'other_or_unstated')),
    home_support   boolean NOT NULL,
    note           text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    first_visit_on date CHECK (first_visit_on >= received_on),
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'registered', 'closed')),
    participant_id bigint UNIQUE REFERENCES participants (id),
    closed_on      date CHECK (closed_on >= received_on),
    close_reason   text NOT NULL DEFAULT '' CHECK (length(close_reason) <= 500),
    version        integer NOT NULL DEFAULT 1,
    recorded_by    bigint NOT NULL REFERENCES users (id),
    recorded_at    timestamptz NOT NULL,
    CHECK ((status = 'registered') = (participant_id IS NOT NULL)),
    CHECK ((status = 'closed') = (closed_on IS NOT NULL)),
    CHECK (status <> 'closed' OR length(btrim(close_reason)) > 0)
);
CREATE INDEX intakes_unit_idx ON intakes (unit_id, received_on DESC, id DESC);
CREATE INDEX intakes_open_idx ON intakes (unit_id, received_on) WHERE status = 'open';

-- The yearly report reads them: a change moves fact_versions (migration 0008),
-- so a kept report is not shown over it.
CREATE CONSTRAINT TRIGGER outreach_contacts_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON outreach_contacts
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER information_meetings_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON information_meetings
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
CREATE CONSTRAINT TRIGGER intakes_bump_fact_version AFTER INSERT OR UPDATE OR DELETE ON intakes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION fact_versions_bump();
