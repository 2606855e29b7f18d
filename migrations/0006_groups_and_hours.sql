-- Attendance, second part (issue 6): group activities with leaders and
-- attendance, and the hours trainees actually worked against their plan.

CREATE TABLE group_activities (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id     bigint NOT NULL REFERENCES units (id),
    kind        text NOT NULL CHECK (kind IN ('social', 'young_adults', 'course_labour_market', 'course_life_skills',
                                              'course_self_strengthening', 'information_meeting', 'study_visit')),
    title       text NOT NULL CHECK (length(btrim(title)) BETWEEN 1 AND 200),
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL CHECK (ends_at > starts_at),
    place       text NOT NULL DEFAULT '' CHECK (length(place) <= 200),
    created_by  bigint NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL
);
CREATE INDEX group_activities_unit_idx ON group_activities (unit_id, starts_at);

CREATE TABLE group_activity_leaders (
    activity_id bigint NOT NULL REFERENCES group_activities (id),
    user_id     bigint NOT NULL REFERENCES users (id),
    PRIMARY KEY (activity_id, user_id)
);

CREATE TABLE group_activity_attendance (
    activity_id    bigint NOT NULL REFERENCES group_activities (id),
    participant_id bigint NOT NULL REFERENCES participants (id),
    recorded_by    bigint NOT NULL REFERENCES users (id),
    recorded_at    timestamptz NOT NULL,
    PRIMARY KEY (activity_id, participant_id)
);
CREATE INDEX group_activity_attendance_participant_idx ON group_activity_attendance (participant_id);

-- DOMAIN.md: Yngre Lotsen is for ages 18–35, on the day of the activity.
CREATE FUNCTION young_adults_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM group_activities a JOIN participants p ON p.id = NEW.participant_id
        WHERE a.id = NEW.activity_id AND a.kind = 'young_adults'
          AND extract(year FROM age((a.starts_at AT TIME ZONE 'Europe/Stockholm')::date, p.birth_date)) NOT BETWEEN 18 AND 35
    ) THEN
        RAISE EXCEPTION 'Yngre Lotsen is for ages 18 to 35' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'group_activity_attendance_young_adults_age';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER group_activity_attendance_young_adults BEFORE INSERT OR UPDATE ON group_activity_attendance
    FOR EACH ROW EXECUTE FUNCTION young_adults_only();

-- Arbetade timmar: what a trainee actually worked on a day, against the plan's hours a week.
CREATE TABLE training_hours (
    plan_id     bigint NOT NULL REFERENCES plans (id),
    worked_on   date NOT NULL,
    hours       numeric(4, 2) NOT NULL CHECK (hours > 0 AND hours <= 12),
    recorded_by bigint NOT NULL REFERENCES users (id),
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (plan_id, worked_on)
);
CREATE INDEX training_hours_day_idx ON training_hours (worked_on);
