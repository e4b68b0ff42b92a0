package console

import "net/http"

// CSVCells is csvCells, for the tests of the CSV report.
var CSVCells = csvCells

// SetExportLimit sets the rows of one exported list until restore is
// called.
func SetExportLimit(n int) (restore func()) {
	old := exportLimit
	exportLimit = n
	return func() { exportLimit = old }
}

// SetPauseAt has f called at the named points of each console request
// (pauseAt) until restore is called.
func SetPauseAt(f func(r *http.Request, point string)) (restore func()) {
	pauseAt = f
	return func() { pauseAt = nil }
}
