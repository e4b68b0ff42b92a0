package upload

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"
)

// dirStore is tusd's filestore kept to its own directory. The filestore
// writes into an upload's .info the absolute path of its bytes, and reads
// them from there: a data directory moved (a new disk) lost its unfinished
// uploads (404, the phone starts over), and one copied (an upgrade
// rehearsed on a copy) wrote the copy's PATCHes into the original's files.
// An upload's paths are taken as in this directory, whatever it says.
type dirStore struct{ filestore.FileStore }

func newDirStore(dir string) dirStore {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	store := filestore.New(abs)
	// An upload's bytes are a photo's, readable by the server alone, as
	// every other file of the data directory (ops probe: 0644).
	store.FileModePerm, store.DirModePerm = 0o600, 0o750
	return dirStore{store}
}

// NewUpload creates an upload's files, as FileStore.NewUpload does, and
// removes them when it fails: a full disk left an empty file and .info
// for every attempt, 620 files after a phone's 310 retries, which the
// sweep kept for its week of grace (ops probe). tusd's filestore names
// the upload only once it succeeds, so the id is made here, as it makes
// them (32 hexadecimal digits).
func (s dirStore) NewUpload(ctx context.Context, info handler.FileInfo) (handler.Upload, error) {
	if info.ID == "" {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		info.ID = hex.EncodeToString(b[:])
	}
	u, err := s.FileStore.NewUpload(ctx, info)
	if err != nil && filepath.Base(info.ID) == info.ID {
		bin := filepath.Join(s.Path, info.ID)
		for _, p := range []string{bin, bin + ".info"} {
			if rerr := os.Remove(p); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
				err = errors.Join(err, rerr)
			}
		}
	}
	return u, err
}

// UseIn registers the store with the composer, as FileStore.UseIn does,
// so that the handler's GetUpload is this one.
func (s dirStore) UseIn(composer *handler.StoreComposer) {
	composer.UseCore(s)
	composer.UseTerminater(s)
	composer.UseConcater(s)
	composer.UseLengthDeferrer(s)
	composer.UseContentServer(s)
}

// GetUpload returns upload id, its .info first pointed at this directory
// if it names another (rehome).
func (s dirStore) GetUpload(ctx context.Context, id string) (handler.Upload, error) {
	if err := s.rehome(id); err != nil {
		return nil, err
	}
	return s.FileStore.GetUpload(ctx, id)
}

// rehome rewrites the .info of upload id whose paths name another
// directory (the one it began in) to name this one. An upload with no
// .info here is left to GetUpload (404).
func (s dirStore) rehome(id string) error {
	if id == "" || filepath.Base(id) != id {
		return nil // GetUpload refuses it
	}
	infoPath := filepath.Join(s.Path, id+".info")
	data, err := os.ReadFile(infoPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return err
	}
	var info handler.FileInfo
	if err := json.Unmarshal(data, &info); err != nil {
		return nil // GetUpload says so
	}
	bin := filepath.Join(s.Path, id)
	if info.Storage[filestore.StorageKeyPath] == bin && info.Storage[filestore.StorageKeyInfoPath] == infoPath {
		return nil
	}
	if info.Storage == nil {
		info.Storage = map[string]string{"Type": "filestore"}
	}
	info.Storage[filestore.StorageKeyPath], info.Storage[filestore.StorageKeyInfoPath] = bin, infoPath
	fixed, err := json.Marshal(info)
	if err != nil {
		return err
	}
	tmp := infoPath + ".rehome"
	if err := os.WriteFile(tmp, fixed, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, infoPath)
}
