package console

// CSVCells is csvCells, for the tests of the CSV report.
var CSVCells = csvCells
