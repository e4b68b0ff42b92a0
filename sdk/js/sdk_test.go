package jssdk_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	jssdk "github.com/xinzhou-eco/fieldsync/sdk/js"
	"github.com/xinzhou-eco/fieldsync/server"
	"github.com/xinzhou-eco/fieldsync/server/imageproc/testimg"
	"github.com/xinzhou-eco/fieldsync/syncproto"
)

// The JavaScript SDK's checks, run by go test so that CI runs them: the
// type check (tsc), the Node tests (unit tests, the conformance vectors
// shared with syncproto, and integration tests against the real fieldsync
// binary), and the committed bundle being what a fresh build makes.

// sdkDir returns sdk/js with its node_modules, or fails the test.
func sdkDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is needed for the JavaScript SDK tests (.ci/run installs it): %v", err)
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"typescript", "esbuild", "idb", "tus-js-client", "fake-indexeddb"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", m)); err != nil {
			t.Fatalf("sdk/js/node_modules/%s is missing: run npm ci in sdk/js (.ci/run does)", m)
		}
	}
	return dir
}

func run(t *testing.T, dir string, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	if testing.Verbose() {
		t.Logf("%s %v:\n%s", name, args, out)
	}
}

// TestTypeCheck runs tsc over the JSDoc-typed sources and tests.
func TestTypeCheck(t *testing.T) {
	dir := sdkDir(t)
	run(t, dir, nil, "node", filepath.Join("node_modules", "typescript", "bin", "tsc"), "--noEmit", "-p", ".")
}

// TestBundleIsFresh fails when dist/fieldsync-sdk.js (embedded as Bundle)
// differs from what npm run build makes of the sources.
func TestBundleIsFresh(t *testing.T) {
	dir := sdkDir(t)
	out := filepath.Join(t.TempDir(), "fieldsync-sdk.js")
	run(t, dir, nil, filepath.Join(dir, "node_modules", ".bin", "esbuild"), "src/index.js", "--bundle", "--format=esm",
		"--platform=browser", "--target=es2020", "--minify", "--legal-comments=none", "--define:globalThis.FIELDSYNC_BROWSER_BUILD=true", "--outfile="+out)
	fresh, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fresh, jssdk.Bundle) {
		t.Fatal("sdk/js/dist/fieldsync-sdk.js is stale: run npm run build in sdk/js and commit it")
	}
}

// TestTypesAreFresh fails when types/ (the declarations package.json
// publishes, made from the sources' JSDoc, their @internal members taken
// out) differs from what npm run build makes of the sources.
func TestTypesAreFresh(t *testing.T) {
	dir := sdkDir(t)
	out := t.TempDir()
	run(t, dir, nil, "node", filepath.Join("node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.types.json", "--declarationDir", out)
	run(t, dir, nil, "node", filepath.Join("scripts", "strip-internal.js"), out)
	fresh, committed := declarations(t, out), declarations(t, filepath.Join(dir, "types"))
	if len(fresh) == 0 {
		t.Fatal("tsc made no declarations")
	}
	for name, text := range fresh {
		if committed[name] != text {
			t.Errorf("sdk/js/types/%s is stale or missing: run npm run build in sdk/js and commit it", name)
		}
	}
	for name := range committed {
		if _, ok := fresh[name]; !ok {
			t.Errorf("sdk/js/types/%s has no source any more: remove it", name)
		}
	}
}

// declarations reads every .d.ts file under dir by its slash path.
func declarations(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".d.ts") {
			return err
		}
		b, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// TestTypesServeAnApp compiles test/consumer/app.ts, a strict TypeScript
// app importing the SDK by its package name, as a third-party developer
// would: the published types resolve and describe the calls it makes.
func TestTypesServeAnApp(t *testing.T) {
	dir := sdkDir(t)
	tsc := filepath.Join(dir, "node_modules", "typescript", "bin", "tsc")
	run(t, dir, nil, "node", tsc, "-p", filepath.Join("test", "consumer"))
	// And with the older resolution many React Native and older
	// projects still use (moduleResolution node10, which reads no
	// "exports"; SDK probe: @fieldsync/sdk/file-storage was not found),
	// the package installed in the app's node_modules.
	app := t.TempDir()
	for link, target := range map[string]string{
		filepath.Join("node_modules", "@fieldsync", "sdk"): dir,
		filepath.Join("node_modules", "@types"):            filepath.Join(dir, "node_modules", "@types"),
		filepath.Join("node_modules", "idb"):               filepath.Join(dir, "node_modules", "idb"),
		filepath.Join("node_modules", "tus-js-client"):     filepath.Join(dir, "node_modules", "tus-js-client"),
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(app, link)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, filepath.Join(app, link)); err != nil {
			t.Fatal(err)
		}
	}
	src, err := os.ReadFile(filepath.Join(dir, "test", "consumer", "app.ts"))
	if err != nil {
		t.Fatal(err)
	}
	tsconfig := `{"compilerOptions": {"strict": true, "noEmit": true, "target": "es2022", "module": "es2022",
		"moduleResolution": "node10", "lib": ["es2022", "dom"], "types": ["node"], "skipLibCheck": false}, "files": ["app.ts"]}`
	for name, data := range map[string][]byte{"app.ts": src, "tsconfig.json": []byte(tsconfig)} {
		if err := os.WriteFile(filepath.Join(app, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(t, app, nil, "node", tsc, "-p", ".")
}

// TestNode builds fieldsync and runs the Node tests (sdk/js/test/*.test.js)
// with it.
func TestNode(t *testing.T) {
	dir := sdkDir(t)
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "fieldsync")
	root := filepath.Join(dir, "..", "..")
	run(t, root, nil, "go", "build", "-o", bin, "./cmd/fieldsync")
	jpeg := filepath.Join(tmp, "photo.jpg")
	if err := os.WriteFile(jpeg, noisyJPEG(), 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("test", "*.test.js"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test/*.test.js: %v", err)
	}
	args := append([]string{"--test", "--test-concurrency=1"}, files...)
	run(t, dir, []string{"FIELDSYNC_BIN=" + bin, "FIELDSYNC_TEST_JPEG=" + jpeg}, "node", args...)
}

// TestEveryCodeHasAMessage: the SDK has a Chinese message for every code
// the server answers, so that an inspector never reads a bare code.
func TestEveryCodeHasAMessage(t *testing.T) {
	cmd := exec.Command("node", "--input-type=module", "-e",
		`import('./src/errors.js').then((m) => console.log(JSON.stringify(Object.keys(m.MESSAGES))))`)
	cmd.Dir = sdkDir(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var keys []string
	if err := json.Unmarshal(out, &keys); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	for _, code := range syncproto.ErrorCodes() {
		if !slices.Contains(keys, code) {
			t.Errorf("no message for the server's code %q (sdk/js/src/errors.js MESSAGES)", code)
		}
	}
}

// TestEntityRulesMatchServer: the entities the SDK refuses to write or
// delete (and the field after which a record is kept), the fields it refuses to set, and the fields it knows a create
// needs (sent again after a restore) are the server's (its entity
// catalogue), so that a phone refuses locally exactly what the server
// would reject.
func TestEntityRulesMatchServer(t *testing.T) {
	dir := sdkDir(t)
	cmd := exec.Command("node", "--input-type=module", "-e",
		`import('./src/client.js').then((m) => console.log(JSON.stringify(m.ENTITY_RULES)))`)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got struct {
		Writable     []string            `json:"writable"`
		ReadOnly     []string            `json:"readOnly"`
		NotDeletable []string            `json:"notDeletable"`
		KeptOnce     map[string]string   `json:"keptOnce"`
		ServerOwned  map[string][]string `json:"serverOwned"`
		Required     map[string][]string `json:"required"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	want := got
	want.Writable, want.ReadOnly, want.NotDeletable, want.ServerOwned, want.Required = []string{}, []string{}, []string{}, map[string][]string{}, map[string][]string{}
	want.KeptOnce = map[string]string{}
	meta := map[string]bool{}
	for _, f := range server.MetaFields {
		meta[f.Name] = true
	}
	for _, e := range server.Entities {
		if !e.DeviceWritable {
			want.ReadOnly = append(want.ReadOnly, e.Name)
			continue
		}
		want.Writable = append(want.Writable, e.Name)
		if !e.DeviceDeletable {
			want.NotDeletable = append(want.NotDeletable, e.Name)
		}
		if e.KeptOnce != "" {
			want.KeptOnce[e.Name] = e.KeptOnce
		}
		for _, f := range e.Fields {
			if f.Server && !meta[f.Name] {
				want.ServerOwned[e.Name] = append(want.ServerOwned[e.Name], f.Name)
			}
			if f.Required {
				want.Required[e.Name] = append(want.Required[e.Name], f.Name)
			}
		}
	}
	for _, l := range [][]string{got.Writable, got.ReadOnly, got.NotDeletable, want.Writable, want.ReadOnly, want.NotDeletable} {
		slices.Sort(l)
	}
	for _, m := range []map[string][]string{got.ServerOwned, want.ServerOwned, got.Required, want.Required} {
		for _, l := range m {
			slices.Sort(l)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sdk/js/src/client.js entity rules\n%+v\nthe server's\n%+v", got, want)
	}
}

// noisyJPEG is a real camera-like JPEG of a few MB (noise compresses
// badly), with EXIF.
func noisyJPEG() []byte {
	r := rand.New(rand.NewPCG(11, 7))
	img := image.NewRGBA(image.Rect(0, 0, 2048, 1536))
	for y := 0; y < 1536; y++ {
		for x := 0; x < 2048; x++ {
			img.SetRGBA(x, y, color.RGBA{uint8(r.UintN(256)), uint8(r.UintN(256)), uint8(x / 7), 255})
		}
	}
	taken := time.Now()
	return testimg.EncodeJPEG(img, testimg.Options{Time: &taken, Quality: 92})
}

// TestPhotoContentTypesMatchServer: the photo formats takePhoto accepts
// are those the server's photo.content_type takes, so that a photo the
// server would refuse (a GIF) is refused at once, not left as an upload
// that can never finish (the SDK probe).
func TestPhotoContentTypesMatchServer(t *testing.T) {
	cmd := exec.Command("node", "--input-type=module", "-e",
		`import('./src/index.js').then((m) => console.log(JSON.stringify(m.PHOTO_CONTENT_TYPES)))`)
	cmd.Dir = sdkDir(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v", err)
	}
	var got []string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	f, _ := server.EntityByName(syncproto.EntityPhoto).Field("content_type")
	if want := f.Enum; !slices.Equal(got, want) {
		t.Errorf("the SDK takes photos of %v, the server %v", got, f.Enum)
	}
}
