-- Who answers for a task in a county (责任领导, 责任人): the plan puts
-- each task on named people (把任务分解到人).
ALTER TABLE task_progress ADD COLUMN responsible_leader TEXT;
ALTER TABLE task_progress ADD COLUMN responsible_person TEXT;
