package main

import (
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// TestDeployExample reads deploy/: the servers of compose.yaml start only
// once a one-shot service has made the bucket their FIELDSYNC_BLOBS
// names, at its endpoint (fieldsync refuses to start without it and does
// not make it); and nginx.conf keeps /metrics from the internet.
func TestDeployExample(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Command     any               `yaml:"command"`
			Environment map[string]string `yaml:"environment"`
			DependsOn   any               `yaml:"depends_on"` // a list, or conditions by service

		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(raw, &compose); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	fs := compose.Services["fieldsync"]
	blobs, err := url.Parse(fs.Environment["FIELDSYNC_BLOBS"])
	if err != nil || blobs.Scheme != "s3" || blobs.Host == "" {
		t.Fatalf("fieldsync's FIELDSYNC_BLOBS: %q (%v)", fs.Environment["FIELDSYNC_BLOBS"], err)
	}
	var maker string
	deps, _ := fs.DependsOn.(map[string]any)
	for name, dep := range deps {
		if cond, _ := dep.(map[string]any); cond["condition"] == "service_completed_successfully" {
			maker = name
		}
	}
	if maker == "" {
		t.Fatalf("fieldsync depends on no one-shot service: %+v", fs.DependsOn)
	}
	cmd := strings.Join(strings.Fields(strings.Join(flatten(compose.Services[maker].Command), " ")), " ")
	for _, want := range []string{
		"--endpoint-url " + blobs.Query().Get("endpoint") + " s3api create-bucket --bucket " + blobs.Host,
		"s3api head-bucket --bucket " + blobs.Host, // run again, it finds it there
	} {
		if !strings.Contains(cmd, want) {
			t.Errorf("service %s's command %q lacks %q", maker, cmd, want)
		}
	}
	if env := compose.Services[maker].Environment; env["AWS_ACCESS_KEY_ID"] != fs.Environment["AWS_ACCESS_KEY_ID"] || env["AWS_SECRET_ACCESS_KEY"] != fs.Environment["AWS_SECRET_ACCESS_KEY"] {
		t.Errorf("service %s makes the bucket with other credentials than the servers use", maker)
	}

	nginx, err := os.ReadFile("../../deploy/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`location (?:=|\^~) /metrics \{([^}]*)\}`).FindSubmatch(nginx)
	if m == nil || !strings.Contains(string(m[1]), "return 404") || strings.Contains(string(m[1]), "proxy_pass") {
		t.Errorf("nginx.conf passes /metrics on to the servers")
	}
}

// flatten gives a compose command (a string or a list) as its strings.
func flatten(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, flatten(x)...)
		}
		return out
	}
	return nil
}
