-- An inspection on a checklist whose site_kinds lack its site's kind is
-- now incomplete (missing_items reason site_kind). Those already stored
-- are listed again at start (BackfillCompleteness). site_kinds is the
-- server's own JSON array of snake_case kinds: a kind is in it when its
-- quoted name is.
UPDATE inspection SET failed_items = NULL
WHERE deleted_hlc = '' AND EXISTS (
	SELECT 1 FROM site s, checklist_template t
	WHERE s.id = inspection.site_id AND t.id = inspection.template_id || '@' || inspection.template_version::text
	AND t.site_kinds LIKE '[%"%' AND position('"' || s.kind || '"' in t.site_kinds) = 0);
