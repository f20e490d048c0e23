package format

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
)

var now = time.Unix(1700000100, 0)

func psRows() []Row {
	return []Row{Container{Trunc: true, Now: now, C: container.Summary{
		ID:      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		Names:   []string{"/web"},
		Image:   "busybox",
		Command: "sh -c 'while true; do sleep 1; done'",
		Created: 1700000097,
		Status:  "Up 2 seconds",
		State:   "running",
		Labels:  map[string]string{"b": "2", "a": "1"},
	}}}
}

func TestContainerTable(t *testing.T) {
	var out bytes.Buffer
	w := Writer{Out: &out, Format: Format(ContainerFormat("", false, false)), DefaultTable: DefaultContainerTable, Header: ContainerHeader}
	if err := w.Write(psRows()); err != nil {
		t.Fatal(err)
	}
	want := "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS     NAMES\n" +
		"0123456789ab   busybox   \"sh -c 'while true; …\"   3 seconds ago   Up 2 seconds             web\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestFormats(t *testing.T) {
	tests := []struct {
		format string
		quiet  bool
		want   string
	}{
		{"", true, "0123456789ab\n"},
		{"{{.Names}} {{.State}}", false, "web running\n"},
		{"table {{.ID}}\t{{.Names}}", false, "CONTAINER ID   NAMES\n0123456789ab   web\n"},
		{"{{.Labels}}", false, "a=1,b=2\n"},
		{`{{.Label "b"}}`, false, "2\n"},
		{"{{upper .Names}} {{title .State}} {{truncate .ID 4}} {{pad .Names 1 1}}|", false, "WEB Running 0123  web |\n"},
		{`{{join (split .Labels ",") ";"}}`, false, "a=1;b=2\n"},
		{"{{json .Names}}", false, "\"web\"\n"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		w := Writer{Out: &out, Format: Format(ContainerFormat(tt.format, tt.quiet, false)), DefaultTable: DefaultContainerTable, Header: ContainerHeader}
		if err := w.Write(psRows()); err != nil {
			t.Fatalf("%q: %v", tt.format, err)
		}
		if out.String() != tt.want {
			t.Errorf("%q: got %q, want %q", tt.format, out.String(), tt.want)
		}
	}
}

func TestJSONFormat(t *testing.T) {
	var out bytes.Buffer
	w := Writer{Out: &out, Format: "json", DefaultTable: DefaultContainerTable, Header: ContainerHeader}
	if err := w.Write(psRows()); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"ID":"0123456789ab"`, `"Names":"web"`, `"RunningFor":"3 seconds ago"`, `"Command":"\"sh -c 'while true; …\""`} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("json output %s lacks %s", out.String(), key)
		}
	}
}

func TestBadTemplate(t *testing.T) {
	w := Writer{Out: &bytes.Buffer{}, Format: "{{.Nope", DefaultTable: DefaultContainerTable}
	if err := w.Write(psRows()); err == nil || !strings.HasPrefix(err.Error(), "template parsing error") {
		t.Errorf("got %v", err)
	}
}

func TestImagesTable(t *testing.T) {
	imgs := []image.Summary{
		{ID: "sha256:aaaaaaaaaaaabbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", RepoTags: []string{"busybox:latest", "busybox:1.36"}, Created: now.Unix() - 3600*24*14, Size: 4261550},
		{ID: "sha256:cccccccccccc0000000000000000000000000000000000000000000000000000", Created: now.Unix() - 60, Size: 1234},
	}
	var out bytes.Buffer
	w := Writer{Out: &out, Format: Format(ImageFormat("", false, false)), DefaultTable: DefaultImageTable, Header: ImageHeader}
	if err := w.Write(ImageRows(imgs, false, true, now)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(out.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "REPOSITORY   TAG       IMAGE ID       CREATED") {
		t.Fatalf("got\n%s", out.String())
	}
	for i, f := range [][]string{{"busybox", "latest", "aaaaaaaaaaaa", "2 weeks ago", "4.26MB"}, {"busybox", "1.36"}, {"<none>", "<none>", "cccccccccccc", "About a minute ago", "1.23kB"}} {
		for _, s := range f {
			if !strings.Contains(lines[i+1], s) {
				t.Errorf("row %d %q lacks %q", i+1, lines[i+1], s)
			}
		}
	}
}

func TestImageDigests(t *testing.T) {
	d := "sha256:" + strings.Repeat("d", 64)
	imgs := []image.Summary{{ID: "sha256:" + strings.Repeat("a", 64), RepoTags: []string{"docker.io/library/alpine:3"}, RepoDigests: []string{"alpine@" + d}}}
	rows := ImageRows(imgs, true, true, now)
	if len(rows) != 1 {
		t.Fatalf("rows: %d", len(rows))
	}
	r := rows[0].(Image)
	if r.Repository() != "alpine" || r.Tag() != "3" || r.Digest() != d {
		t.Errorf("row: %s %s %s", r.Repository(), r.Tag(), r.Digest())
	}
	rows = ImageRows(imgs, false, true, now)
	if r := rows[0].(Image); r.Digest() != "<none>" {
		t.Errorf("digest without --digests: %s", r.Digest())
	}
}

func TestHistory(t *testing.T) {
	h := History{H: image.HistoryResponseItem{ID: "<missing>", CreatedBy: "/bin/sh -c #(nop) ADD file:0123456789abcdef in / ", Size: 1500000, Created: now.Unix() - 7200}, Trunc: true, Human: true, Now: now}
	if h.ID() != "<missing>" || h.Size() != "1.5MB" || h.CreatedSince() != "2 hours ago" {
		t.Errorf("got %s %s %s", h.ID(), h.Size(), h.CreatedSince())
	}
	if got := h.CreatedBy(); len([]rune(got)) != 45 || !strings.HasSuffix(got, "…") {
		t.Errorf("created by %q", got)
	}
	h.Human = false
	if h.Size() != "1500000" {
		t.Errorf("raw size %s", h.Size())
	}
}

func TestPorts(t *testing.T) {
	got := DisplayablePorts([]container.PortSummary{{PrivatePort: 443, Type: "tcp"}, {PrivatePort: 80, PublicPort: 8080, Type: "tcp"}})
	if got != "8080->80/tcp, 443/tcp" {
		t.Errorf("ports %q", got)
	}
}

func TestInspect(t *testing.T) {
	get := func(ref string) (any, []byte, error) {
		if ref == "missing" {
			return nil, nil, errNotFound(ref)
		}
		return map[string]any{"Id": ref}, []byte(`{"Id":"` + ref + `"}`), nil
	}
	var out bytes.Buffer
	err := Inspect(&out, []string{"a", "missing"}, "", get)
	if out.String() != "[\n    {\n        \"Id\": \"a\"\n    }\n]\n" {
		t.Errorf("got %q", out.String())
	}
	if err == nil || err.Error() != "No such object: missing" {
		t.Errorf("err %v", err)
	}
	out.Reset()
	if err := Inspect(&out, []string{"b"}, "{{.Id}}", get); err != nil || out.String() != "b\n" {
		t.Errorf("template: %q %v", out.String(), err)
	}
}

type errNotFound string

func (e errNotFound) Error() string { return "No such object: " + string(e) }
