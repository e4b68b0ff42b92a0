package storetest

var photoCases = []testCase{}
var officeCases = []testCase{}
var recordCases = []testCase{}
