package storetest

var photoCases = []testCase{}
var recordCases = []testCase{}
