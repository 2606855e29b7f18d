-- Attendance, first part (issue 6): visits logged at the reception desk
-- (besök, one per person and day), anonymous drop-in visitors counted per
-- day and gender, the unit's exceptions to the opening calendar, and the
-- periods a unit keeps for Yngre Lotsen.

CREATE TABLE visits (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    participant_id  bigint NOT NULL REFERENCES participants (id),
    unit_id         bigint NOT NULL REFERENCES units (id),
    visit_on        date NOT NULL,
    checked_in_at   timestamptz NOT NULL,
    checked_out_at  timestamptz CHECK (checked_out_at IS NULL OR checked_out_at >= checked_in_at),
    -- Logged afterwards for a past day.
    backfilled      boolean NOT NULL DEFAULT false,
    -- A visitor outside 18–35 let in, after a confirmation, during time kept for Yngre Lotsen.
    outside_young_adults_time boolean NOT NULL DEFAULT false,
    created_by      bigint NOT NULL REFERENCES users (id),
    -- An undone check-in is kept, marked cancelled.
    cancelled_at    timestamptz,
    cancelled_by    bigint REFERENCES users (id),
    CHECK ((cancelled_at IS NULL) = (cancelled_by IS NULL))
);
-- One visit per person and day; a cancelled one does not count.
CREATE UNIQUE INDEX visits_one_per_day ON visits (participant_id, visit_on) WHERE cancelled_at IS NULL;
CREATE INDEX visits_unit_day_idx ON visits (unit_id, visit_on) WHERE cancelled_at IS NULL;

-- Anonymous visitors (not registered), counted per unit, day and gender.
CREATE TABLE drop_in_visits (
    unit_id   bigint NOT NULL REFERENCES units (id),
    visit_on  date NOT NULL,
    gender    text NOT NULL CHECK (gender IN ('woman', 'man', 'other_or_unstated')),
    visitors  integer NOT NULL CHECK (visitors >= 0 AND visitors <= 10000),
    PRIMARY KEY (unit_id, visit_on, gender)
);

-- A unit's change to its default calendar (Monday–Friday except holidays):
-- closed on a day it would be open, or open on a day it would be closed,
-- possibly in the evening.
CREATE TABLE opening_exceptions (
    unit_id     bigint NOT NULL REFERENCES units (id),
    day         date NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('closed', 'open', 'evening')),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 300),
    created_by  bigint NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (unit_id, day)
);

-- Time a unit keeps for Yngre Lotsen (ages 18–35).
CREATE TABLE young_adult_periods (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id     bigint NOT NULL REFERENCES units (id),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 300),
    created_by  bigint NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL
);
CREATE INDEX young_adult_periods_unit_idx ON young_adult_periods (unit_id, starts_at);

-- Check-in searches by the beginning of a first or last name.
CREATE INDEX participants_first_name_prefix_idx ON participants (lower(first_name) text_pattern_ops, unit_id);
CREATE INDEX participants_last_name_prefix_idx ON participants (lower(last_name) text_pattern_ops, unit_id);
