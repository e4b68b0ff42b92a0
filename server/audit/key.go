package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeyFile is the name of the seal key in the data directory.
const KeyFile = "audit-key.pem"

// LoadOrCreateKey reads the Ed25519 seal key at path (PKCS #8, PEM), or,
// if there is no file, makes one and writes it readable by its owner only
// (temporary file, fsync, rename, so a crash leaves no half key).
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	key, err := LoadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	_, key, err = ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".audit-key-*")
	if err != nil {
		return nil, fmt.Errorf("write audit key: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err = tmp.Chmod(0o600); err == nil {
		if err = pem.Encode(tmp, &pem.Block{Type: "PRIVATE KEY", Bytes: der}); err == nil {
			err = tmp.Sync()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Link, not rename: a server starting at the same time that made
		// its own key keeps the first one written.
		if err = os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
			return LoadKey(path)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("write audit key: %w", err)
	}
	return key, nil
}

// LoadKey reads an Ed25519 private key (PKCS #8, PEM).
func LoadKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("audit key %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("audit key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("audit key %s: not an Ed25519 key", path)
	}
	return key, nil
}

// EncodePublicKey writes a public key as PEM (PKIX), for --pubkey.
func EncodePublicKey(pub ed25519.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// ParsePublicKey reads a public key: PEM (PKIX) or, as a seal carries
// it, base64 of the 32 raw bytes. A PEM private key gives its public key.
func ParsePublicKey(b []byte) (ed25519.PublicKey, error) {
	if block, _ := pem.Decode(b); block != nil {
		switch block.Type {
		case "PUBLIC KEY":
			k, err := x509.ParsePKIXPublicKey(block.Bytes)
			if pub, ok := k.(ed25519.PublicKey); ok && err == nil {
				return pub, nil
			}
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if priv, ok := k.(ed25519.PrivateKey); ok && err == nil {
				return priv.Public().(ed25519.PublicKey), nil
			}
		}
		return nil, errors.New("not an Ed25519 key")
	}
	raw, err := decodeBase64(string(b))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("not an Ed25519 public key (PEM, or base64 of 32 bytes)")
	}
	return raw, nil
}
