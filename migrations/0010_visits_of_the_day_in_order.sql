-- "Dagens besök" shows the unit's latest check-ins of the day first. The
-- index on (unit_id, visit_on) gains the order of the list, so the page
-- reads the latest fifty of a busy day in order instead of sorting the whole
-- day; reports over a unit and a period use its leading columns as before.
CREATE INDEX visits_unit_day_order_idx ON visits (unit_id, visit_on, checked_in_at DESC, id DESC) WHERE cancelled_at IS NULL;
DROP INDEX visits_unit_day_idx;
