package syncproto

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
)

// captureVector is testdata/capture_vector.json, shared with the
// JavaScript SDK (sdk/js/test/capture.test.js): a key pair, a photo's
// fields, their message and a signature Web Crypto made.
type captureVector struct {
	PKCS8   string                     `json:"private_key_pkcs8"`
	SPKI    string                     `json:"public_key_spki"`
	KeyID   string                     `json:"key_id"`
	Device  string                     `json:"device_id"`
	Photo   string                     `json:"photo_id"`
	Fields  map[string]json.RawMessage `json:"fields"`
	Message string                     `json:"message"`
	Sig     string                     `json:"capture_sig"`
	// The key registration's proof (signed-captures.md §1).
	ProofMessage string      `json:"key_proof_message"`
	Proof        string      `json:"key_proof"`
	Numbers      [][2]string `json:"numbers"`
}

func loadCaptureVector(t *testing.T) (*captureVector, *ecdsa.PrivateKey, *ecdsa.PublicKey) {
	t.Helper()
	b, err := os.ReadFile("testdata/capture_vector.json")
	if err != nil {
		t.Fatal(err)
	}
	var v captureVector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	der, _ := base64.StdEncoding.DecodeString(v.PKCS8)
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	spki, _ := base64.StdEncoding.DecodeString(v.SPKI)
	pub, err := ParseCaptureKey(spki)
	if err != nil {
		t.Fatal(err)
	}
	if got := CaptureKeyID(spki); got != v.KeyID {
		t.Errorf("key id %s, want %s", got, v.KeyID)
	}
	return &v, k.(*ecdsa.PrivateKey), pub
}

// TestCaptureVector (issue 15): Go builds the same message as the SDK from
// the same fields and verifies the signature Web Crypto made; a signature
// Go makes verifies; any change of the message fails.
func TestCaptureVector(t *testing.T) {
	v, priv, pub := loadCaptureVector(t)
	msg, err := CaptureMessage(v.Device, v.Photo, CaptureValues(v.Fields))
	if err != nil {
		t.Fatal(err)
	}
	if string(msg) != v.Message {
		t.Fatalf("message\n%q\nwant\n%q", msg, v.Message)
	}
	if !VerifyCapture(pub, msg, v.Sig) {
		t.Fatal("the Web Crypto signature does not verify")
	}
	sig, err := SignCapture(priv, msg)
	if err != nil || !VerifyCapture(pub, msg, sig) {
		t.Fatalf("a Go signature does not verify: %v", err)
	}
	lines := strings.SplitAfter(v.Message, "\n")
	for i, l := range lines[:len(lines)-1] {
		changed := strings.Join(lines[:i], "") + strings.Replace(l, "=", "=x", 1) + strings.Join(lines[i+1:], "")
		if i == 0 {
			changed = "fieldsync-capture-v2\n" + strings.Join(lines[1:], "")
		}
		if VerifyCapture(pub, []byte(changed), v.Sig) {
			t.Errorf("line %d changed (%q) still verifies", i, l)
		}
	}
	for _, bad := range []string{"", v.Sig[:len(v.Sig)-2], v.Sig + "AA", strings.ToUpper(v.Sig), "not base64url!"} {
		if VerifyCapture(pub, msg, bad) {
			t.Errorf("signature %q verifies", bad)
		}
	}
}

// TestKeyProofVector: the key registration's proof message is the
// vector's, and Web Crypto's proof verifies for this device and key only.
func TestKeyProofVector(t *testing.T) {
	v, _, pub := loadCaptureVector(t)
	msg := KeyProofMessage(v.Device, v.KeyID)
	if string(msg) != v.ProofMessage {
		t.Fatalf("proof message\n%q\nwant\n%q", msg, v.ProofMessage)
	}
	if !VerifyCapture(pub, msg, v.Proof) {
		t.Fatal("the Web Crypto proof does not verify")
	}
	for _, other := range [][]byte{KeyProofMessage(v.Photo, v.KeyID), KeyProofMessage(v.Device, strings.Repeat("0", 64))} {
		if VerifyCapture(pub, other, v.Proof) {
			t.Errorf("the proof verifies for %q", other)
		}
	}
}

// TestCaptureNumbers: a number's text in the message is its canonical JSON
// (the server's encoding, which is JavaScript's String(n)).
func TestCaptureNumbers(t *testing.T) {
	v, _, _ := loadCaptureVector(t)
	for _, n := range v.Numbers {
		var f float64
		if err := json.Unmarshal([]byte(n[0]), &f); err != nil {
			t.Fatal(err)
		}
		canon, _ := json.Marshal(f) // what the server stores (server.Field.Canonical)
		if got := CaptureText(canon); got != n[1] {
			t.Errorf("%s: %q, want %q", n[0], got, n[1])
		}
	}
}

// TestCaptureMessageLineBreak: a value with a line break cannot be signed.
func TestCaptureMessageLineBreak(t *testing.T) {
	for _, bad := range []string{"a\nb", "a\rb"} {
		if _, err := CaptureMessage("d", "p", map[string]string{"item_key": bad}); !errors.Is(err, ErrCaptureText) {
			t.Errorf("%q: %v, want ErrCaptureText", bad, err)
		}
	}
	msg, err := CaptureMessage("d", "p", map[string]string{"item_key": "围挡"})
	if err != nil || !strings.HasSuffix(string(msg), "\nitem_key=围挡\n") {
		t.Errorf("%q %v", msg, err)
	}
}
