package api

// SetGateHook makes the admission gates call h with their route ("pull",
// "push") and each event of a request ("queued", "admitted", "left") until
// restore is called. An "admitted" request stays inside the gate while h
// runs, which is how tests fill a gate.
func SetGateHook(h func(route, event string)) (restore func()) {
	testHookGate.Store(&h)
	return func() { testHookGate.Store(nil) }
}

// GzipWritersInUse is how many compressors responses hold now.
func GzipWritersInUse() int64 { return gzipInUse.Load() }
