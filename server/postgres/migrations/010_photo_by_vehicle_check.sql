-- The photos of a roadside check, as in SQLite (its migration 022).
CREATE INDEX photo_vehicle_check ON photo (vehicle_check_id) WHERE vehicle_check_id IS NOT NULL;
