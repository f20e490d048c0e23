package images

import (
	"bytes"
	"encoding/json"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

func TestMarshalConfigKeepsEmptyCmd(t *testing.T) {
	var cfg dockerspec.DockerOCIImage
	cfg.OS, cfg.Config.Env = "linux", []string{"A=1"}
	plain, _ := json.Marshal(&cfg)
	for _, tc := range []struct {
		name string
		cmd  []string
		want string // the Cmd read back, as JSON
	}{
		{"none", nil, "null"},
		{"some", []string{"sh"}, `["sh"]`},
		{"cleared", []string{}, "[]"},
	} {
		cfg.Config.Cmd = tc.cmd
		b, err := MarshalConfig(&cfg)
		if err != nil {
			t.Fatal(err)
		}
		var back dockerspec.DockerOCIImage
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if got, _ := json.Marshal(back.Config.Cmd); string(got) != tc.want {
			t.Errorf("%s: Cmd read back as %s, want %s", tc.name, got, tc.want)
		}
		if got, _ := json.Marshal(CloneConfig(cfg).Config.Cmd); string(got) != tc.want {
			t.Errorf("%s: CloneConfig Cmd %s, want %s", tc.name, got, tc.want)
		}
		if tc.cmd == nil && !bytes.Equal(b, plain) {
			t.Errorf("a config without Cmd encodes differently:\n%s\n%s", b, plain)
		}
	}
}
