-- Drill-down (issue 16): listing the people behind a report's figure is a
-- read of their records, logged as such.
ALTER TABLE access_log DROP CONSTRAINT access_log_action_check;
ALTER TABLE access_log ADD CONSTRAINT access_log_action_check
    CHECK (action IN ('view', 'search', 'print', 'denied', 'report_list')) NOT VALID;
ALTER TABLE access_log VALIDATE CONSTRAINT access_log_action_check;
