-- An inspection on a checklist whose site_kinds lack its site's kind is
-- now incomplete (missing_items reason site_kind). Those already stored
-- are listed again at start (BackfillCompleteness).
UPDATE inspection SET failed_items = NULL
WHERE deleted_hlc = '' AND EXISTS (
	SELECT 1 FROM site s, checklist_template t
	WHERE s.id = inspection.site_id AND t.id = inspection.template_id || '@' || inspection.template_version
	AND json_valid(t.site_kinds) AND json_type(t.site_kinds) = 'array' AND json_array_length(t.site_kinds) > 0
	AND NOT EXISTS (SELECT 1 FROM json_each(t.site_kinds) k WHERE k.value = s.kind));
