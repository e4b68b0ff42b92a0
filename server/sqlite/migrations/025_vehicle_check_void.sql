-- An office's voiding of a roadside check (Syncer.VoidVehicleCheck): a
-- truck saved twice, a check of the wrong vehicle. A voided check stays,
-- as evidence, but counts in no statistic; who voided it, when and why.
ALTER TABLE vehicle_check ADD COLUMN voided_at TEXT;
ALTER TABLE vehicle_check ADD COLUMN voided_by TEXT;
ALTER TABLE vehicle_check ADD COLUMN void_reason TEXT;
