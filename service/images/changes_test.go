package images

import (
	"reflect"
	"testing"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
)

func TestApplyChanges(t *testing.T) {
	for _, tc := range []struct {
		name    string
		changes []string
		check   func(c *dockerspec.DockerOCIImageConfig) bool
		wantErr bool
	}{
		{"cmd json", []string{`CMD ["sh"]`}, func(c *dockerspec.DockerOCIImageConfig) bool { return reflect.DeepEqual(c.Cmd, []string{"sh"}) }, false},
		{"cmd shell", []string{`CMD echo hi`}, func(c *dockerspec.DockerOCIImageConfig) bool {
			return reflect.DeepEqual(c.Cmd, []string{"/bin/sh", "-c", "echo hi"})
		}, false},
		{"env both forms", []string{`ENV A=1 B=2`, `ENV C 3`, `ENV A=9`}, func(c *dockerspec.DockerOCIImageConfig) bool {
			return reflect.DeepEqual(c.Env, []string{"A=9", "B=2", "C=3"})
		}, false},
		{"expose default tcp", []string{`EXPOSE 80 53/udp`}, func(c *dockerspec.DockerOCIImageConfig) bool {
			_, a := c.ExposedPorts["80/tcp"]
			_, b := c.ExposedPorts["53/udp"]
			return a && b
		}, false},
		{"workdir user label", []string{`WORKDIR /app`, `USER nobody`, `LABEL a=b`}, func(c *dockerspec.DockerOCIImageConfig) bool {
			return c.WorkingDir == "/app" && c.User == "nobody" && c.Labels["a"] == "b"
		}, false},
		{"env expands the image's variables", []string{`ENV PATH=/usr/bin`, `ENV PATH=/x:$PATH HOME=${HOME:-/h}`}, func(c *dockerspec.DockerOCIImageConfig) bool {
			return reflect.DeepEqual(c.Env, []string{"PATH=/x:/usr/bin", "HOME=/h"})
		}, false},
		{"run refused", []string{`RUN true`}, nil, true},
		{"unknown", []string{`FOO bar`}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var c dockerspec.DockerOCIImageConfig
			err := ApplyChanges(&c, tc.changes)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tc.check != nil && !tc.check(&c) {
				t.Fatalf("config = %+v", c)
			}
		})
	}
}

func TestParsePlatform(t *testing.T) {
	for _, tc := range []struct {
		in, os, arch, variant string
		bad                   bool
	}{
		{in: "linux/arm64", os: "linux", arch: "arm64"},
		{in: "linux/arm64/v8", os: "linux", arch: "arm64", variant: "v8"},
		{in: "linux/arm/v7", os: "linux", arch: "arm", variant: "v7"},
		{in: "linux/x86_64", os: "linux", arch: "amd64"},
		{in: "aarch64", os: "linux", arch: "arm64"},
		{in: "windows/amd64", bad: true},
		{in: "linux/", bad: true},
		{in: "a/b/c/d", bad: true},
	} {
		p, err := ParsePlatform(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("%s: accepted as %+v", tc.in, p)
			}
			continue
		}
		if err != nil || p.OS != tc.os || p.Architecture != tc.arch || p.Variant != tc.variant {
			t.Errorf("%s: %+v %v", tc.in, p, err)
		}
	}
}
