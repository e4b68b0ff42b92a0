-- A yes/no item answered 否 now fails only when the item has
-- finding_on_fail (syncproto.Answer.Failed): 突击或夜间检查 否 said how the
-- visit was made, yet was counted as a failed item. The inspections with
-- any failed item are listed again at start (BackfillCompleteness).
UPDATE inspection SET failed_items = NULL WHERE failed_items IS NOT NULL AND failed_items <> '[]';
