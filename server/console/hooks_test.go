package console

// CSVCells is csvCells, for the tests of the CSV report.
var CSVCells = csvCells

// SetExportLimit sets the rows of one exported list until restore is
// called.
func SetExportLimit(n int) (restore func()) {
	old := exportLimit
	exportLimit = n
	return func() { exportLimit = old }
}
