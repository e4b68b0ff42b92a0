-- Office console (issue 5): the checklists whose inspections are a
-- rectification task's evidence, the special action (专项行动) a roadside
-- check belongs to, and an index for counting evidence by checklist.
ALTER TABLE rectification_task ADD COLUMN templates TEXT;
ALTER TABLE vehicle_check ADD COLUMN campaign TEXT;
CREATE INDEX inspection_template ON inspection(template_id, county, status);
