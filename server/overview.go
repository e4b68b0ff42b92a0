package server

// Overview is what the console's first page counts for an office's scope
// beyond the inspections' tally (Store.InspectionTally).
type Overview struct {
	// FlaggedWaiting is how many submitted inspections wait for review
	// with at least one evidence flag on a photo of theirs or of their
	// findings.
	FlaggedWaiting int
	// OverdueFindings is how many findings are past their deadline and
	// neither rectified nor verified.
	OverdueFindings int
	// Weeks are the 国六 trucks checked and found with after-treatment
	// removed, per county, checkpoint and week (Week is YYYY-MM-DD,
	// the date of the week's Monday), since the date asked for.
	Weeks []VehicleWeek
}

// VehicleWeek is one checkpoint's roadside figures for one week.
type VehicleWeek struct {
	County, Checkpoint, Week string
	G6, Removed              int
}
