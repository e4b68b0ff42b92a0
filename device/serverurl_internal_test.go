package device

import "testing"

// TestServerURL: the server's address as typed or pasted: a trailing
// slash (copied from a browser) and spaces are trimmed; one without its
// scheme, or with a query, is refused saying what an address is.
func TestServerURL(t *testing.T) {
	for in, want := range map[string]string{
		"http://127.0.0.1:8080":            "http://127.0.0.1:8080",
		"http://127.0.0.1:8080/":           "http://127.0.0.1:8080",
		" https://fieldsync.example.cn// ": "https://fieldsync.example.cn",
		"https://example.cn/fieldsync/":    "https://example.cn/fieldsync",
		"127.0.0.1:8080":                   "",
		"fieldsync.example.cn":             "",
		"ftp://example.cn":                 "",
		"http://":                          "",
		"http://example.cn/?a=1":           "",
		"":                                 "",
	} {
		got, err := serverURL(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("serverURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
