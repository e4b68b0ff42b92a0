package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/app"
	"github.com/xinzhou-eco/fieldsync/server/audit"
)

// auditVerifyCmd checks the audit log against its seals, offline:
//
//	fieldsync audit verify [--data DIR | --database postgres://…] [--pubkey KEY]
//	fieldsync audit verify --export 审计记录-2026-11.jsonl --seal 审计封存-2026-11.json [--pubkey KEY]
//
// The first form checks a database's whole chain and every seal; the
// second an exported month. KEY is the server's public key (PEM, or the
// base64 a seal carries) or its private key file; without it, the data
// directory's key is trusted if there is one, else only the keys the
// seals carry (which proves them unaltered, not who signed them). It
// fails, naming the first entry that does not match, if any does.
func auditVerifyCmd(c *command) {
	c.uses = []string{"audit-key"}
	export := c.fs.String("export", "", "an exported month's entries (JSON lines) to check instead of a database")
	sealPath := c.fs.String("seal", "", "with --export: the month's seal (JSON)")
	var pubkeys keyList
	c.fs.Var(&pubkeys, "pubkey", "the server's audit public key (PEM or base64), or its key file; again for each key that sealed months (an old one replaced by audit newkey)")
	c.run = func(ctx context.Context) error {
		trusted, err := trustedKeys(pubkeys, *export == "", c.cfg.AuditKeyPath())
		if err != nil {
			return err
		}
		if len(trusted) == 0 {
			fmt.Fprintln(c.stdout, "warning: no --pubkey: seals are checked against the keys they carry")
		}
		for _, k := range trusted {
			fmt.Fprintf(c.stdout, "trusted key %s\n", audit.KeyID(k))
		}
		if *export != "" {
			return verifyExport(c, *export, *sealPath, trusted...)
		}
		if *sealPath != "" {
			return errors.New("--seal goes with --export")
		}
		return verifyDatabase(ctx, c, trusted...)
	}
}

// auditNewKeyCmd makes a new audit key where none is, on purpose:
//
//	fieldsync audit newkey [--data DIR | --database URL] [--audit-key FILE]
//
// A server refuses to start over a sealed audit log without the key that
// sealed it (a backup restored without its audit-key.pem); when that key
// is lost for good, this makes the one the next months are sealed with.
// The months sealed before still verify against the old key alone, which
// it names. It never replaces a key file.
func auditNewKeyCmd(c *command) {
	c.uses = []string{"audit-key"}
	c.run = func(ctx context.Context) error {
		// The deployment's database must be there: a mistyped --data
		// makes no key.
		if _, err := c.findStore(ctx); err != nil {
			return err
		}
		path := c.cfg.AuditKeyPath()
		if _, err := os.Stat(path); err == nil {
			return fmt.Errorf("%s exists: it is the audit key; a new one is made only where there is none", path)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		key, err := audit.LoadOrCreateKey(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "made audit key %s in %s\n", audit.KeyID(key.Public().(ed25519.PublicKey)), path)
		db, err := app.OpenDatabase(ctx, *c.cfg)
		if err == nil {
			defer db.Close()
			if seals, err := db.AuditSeals(ctx); err == nil && len(seals) > 0 {
				last := seals[len(seals)-1]
				fmt.Fprintf(c.stdout, "the months up to %s were sealed with key %s: they verify against that key's public key only; check the whole log with both keys, "+
					"fieldsync audit verify --pubkey OLD-KEY --pubkey %s (OLD-KEY: key %s's public key as published, or its file), and publish the new key's too\n",
					last.Month, last.KeyID, path, last.KeyID)
			}
		}
		return nil
	}
}

// keyList is a flag given once for each key (--pubkey A --pubkey B).
type keyList []string

func (l *keyList) String() string     { return strings.Join(*l, ",") }
func (l *keyList) Set(v string) error { *l = append(*l, v); return nil }

// trustedKeys reads each --pubkey, or, checking a database without one,
// the data directory's key file if it exists.
func trustedKeys(paths []string, database bool, keyFile string) ([]ed25519.PublicKey, error) {
	if len(paths) == 0 && database {
		if _, err := os.Stat(keyFile); err == nil {
			paths = []string{keyFile}
		}
	}
	var out []ed25519.PublicKey
	for _, p := range paths {
		k, err := trustedKey(p)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

// trustedKey reads one --pubkey: a key file (public or private) or the
// key itself (base64).
func trustedKey(path string) (ed25519.PublicKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		// The key itself, as the console and seals show it (base64).
		if pub, perr := audit.ParsePublicKey([]byte(path)); perr == nil {
			return pub, nil
		}
	}
	if err != nil {
		return nil, err
	}
	pub, err := audit.ParsePublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return pub, nil
}

func verifyExport(c *command, entriesPath, sealPath string, trusted ...ed25519.PublicKey) error {
	if sealPath == "" {
		return errors.New("--export needs --seal")
	}
	sf, err := os.Open(sealPath)
	if err != nil {
		return err
	}
	defer sf.Close()
	seal, err := audit.ReadSeal(sf)
	if err != nil {
		return err
	}
	ef, err := os.Open(entriesPath)
	if err != nil {
		return err
	}
	defer ef.Close()
	entries, err := audit.ReadEntries(ef)
	if err != nil {
		return fmt.Errorf("%s: %w", entriesPath, err)
	}
	if err := seal.VerifySignature(trusted...); err != nil {
		return err
	}
	if m := seal.Check(entries); m != nil {
		return fmt.Errorf("%s does not match the seal of %s: %w", entriesPath, seal.Month, m)
	}
	fmt.Fprintf(c.stdout, "ok: %d entries (%d–%d) match the seal of %s, signed by key %s at %s\n", len(entries), seal.FirstSeq,
		seal.LastSeq, seal.Month, seal.KeyID, seal.SignedAt.Format("2006-01-02 15:04:05Z07:00"))
	return nil
}

func verifyDatabase(ctx context.Context, c *command, trusted ...ed25519.PublicKey) error {
	if c.cfg.Database == "" {
		// Checking must not create an empty database where there is none.
		if _, err := os.Stat(c.cfg.DBPath()); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("no database at %s", c.cfg.DBPath())
		}
	}
	st, err := app.OpenDatabase(ctx, *c.cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	check, err := server.VerifyAudit(ctx, st, trusted...)
	if err != nil {
		return err
	}
	if g, ok := st.(interface{ Unguarded() []string }); ok && len(g.Unguarded()) > 0 {
		// Put back by the open: gone, someone could edit the log.
		check.Problems = append(check.Problems, fmt.Errorf("the append-only triggers %s were missing (now put back): the log could be edited past them",
			strings.Join(g.Unguarded(), ", ")))
	}
	for _, p := range check.Problems {
		fmt.Fprintf(c.stdout, "MISMATCH %v\n", p)
	}
	for _, n := range check.Notes {
		fmt.Fprintf(c.stdout, "NOTE %s\n", n)
	}
	if len(check.Problems) > 0 {
		return fmt.Errorf("audit log does not verify: %w", check.Problems[0])
	}
	fmt.Fprintf(c.stdout, "ok: %d entries, %d seals, %d entries after the last seal, head %s\n", check.Entries, check.Seals,
		check.Unsealed, check.Head)
	return nil
}
