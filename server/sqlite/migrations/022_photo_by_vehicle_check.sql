-- The photos of a roadside check, for its page in the console
-- (console.vehicle): only photos that name a check are in the index, so
-- the photos of inspections cost it nothing.
CREATE INDEX photo_vehicle_check ON photo(vehicle_check_id) WHERE vehicle_check_id IS NOT NULL;
