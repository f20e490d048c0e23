package images

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/berth-project/berth/api/server"
	"github.com/berth-project/berth/service/images/archive"
	"github.com/containerd/errdefs"
)

// fakeArchives records what save and load were asked.
type fakeArchives struct {
	names   []string
	saveErr error
	body    string
	opts    archive.LoadOptions
	lines   []string
	loadErr error
}

func (f *fakeArchives) Save(_ context.Context, names []string, _ archive.SaveOptions, w io.Writer) error {
	f.names = names
	if f.saveErr != nil {
		return f.saveErr
	}
	_, err := io.WriteString(w, "TAR")
	return err
}

func (f *fakeArchives) Load(_ context.Context, r io.Reader, o archive.LoadOptions, rep archive.LoadReporter) error {
	b, _ := io.ReadAll(r)
	f.body, f.opts = string(b), o
	if !o.Quiet {
		rep.Progress("abc", "Loading layer", 1, 2)
	}
	for _, l := range f.lines {
		rep.Line(l)
	}
	return f.loadErr
}

// serve runs the image routes on a; the image service is not used by
// the save and load routes.
func serve(t *testing.T, a Archives) *httptest.Server {
	t.Helper()
	rt := server.NewRouter(slog.New(slog.NewTextHandler(io.Discard, nil)))
	Register(rt, nil, a)
	srv := httptest.NewServer(rt)
	t.Cleanup(srv.Close)
	return srv
}

func TestSaveRoutes(t *testing.T) {
	for _, tc := range []struct {
		path      string
		err       error
		wantNames []string
		status    int
		body      string
	}{
		{path: "/v1.50/images/get?names=busybox&names=me%2Fbox%3A1", wantNames: []string{"busybox", "me/box:1"}, status: 200, body: "TAR"},
		{path: "/images/busybox/get", wantNames: []string{"busybox"}, status: 200, body: "TAR"},
		{path: "/v1.44/images/docker.io/library/busybox:latest/get", wantNames: []string{"docker.io/library/busybox:latest"}, status: 200, body: "TAR"},
		{path: "/images/get?names=nope:1", err: fmt.Errorf("reference does not exist: %w", errdefs.ErrNotFound), wantNames: []string{"nope:1"},
			status: 404, body: `{"message":"reference does not exist"}`},
		{path: "/v1.50/images/get?names=a&platform=" + url.QueryEscape(`{"os":"linux"}`) + "&platform=" + url.QueryEscape(`{"os":"linux","architecture":"arm64"}`),
			status: 400, body: `{"message":"multiple platforms not supported for this image store; use a multi-platform image store such as containerd-snapshotter"}`},
	} {
		t.Run(tc.path, func(t *testing.T) {
			b := &fakeArchives{saveErr: tc.err}
			resp, err := http.Get(serve(t, b).URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || strings.TrimSpace(string(body)) != tc.body || !reflect.DeepEqual(b.names, tc.wantNames) {
				t.Fatalf("%d %q names %q", resp.StatusCode, body, b.names)
			}
			if tc.status == 200 && resp.Header.Get("Content-Type") != "application/x-tar" {
				t.Fatalf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
		})
	}
}

func TestLoadRoute(t *testing.T) {
	for _, tc := range []struct {
		query     string
		lines     []string
		err       error
		wantQuiet bool
		want      []string
	}{
		{query: "", lines: []string{"Loaded image: a:1"}, wantQuiet: true, want: []string{`{"stream":"Loaded image: a:1\n"}`}},
		{query: "?quiet=1", lines: []string{"Loaded image ID: sha256:x"}, wantQuiet: true, want: []string{`{"stream":"Loaded image ID: sha256:x\n"}`}},
		{query: "?quiet=0", lines: []string{"Loaded image: a:1"}, want: []string{
			`{"status":"Loading layer","progressDetail":{"current":1,"total":2},"id":"abc"}`, `{"stream":"Loaded image: a:1\n"}`}},
		{query: "?quiet=1", err: fmt.Errorf("unexpected EOF"), wantQuiet: true,
			want: []string{`{"errorDetail":{"message":"unexpected EOF"},"error":"unexpected EOF"}`}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			b := &fakeArchives{lines: tc.lines, loadErr: tc.err}
			resp, err := http.Post(serve(t, b).URL+"/v1.50/images/load"+tc.query, "application/x-tar", strings.NewReader("ARCHIVE"))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			var got []string
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if !json.Valid(sc.Bytes()) {
					t.Fatalf("not JSON: %s", sc.Text())
				}
				got = append(got, sc.Text())
			}
			if !reflect.DeepEqual(got, tc.want) || b.body != "ARCHIVE" || b.opts.Quiet != tc.wantQuiet {
				t.Fatalf("got %q (body %q, quiet %v)", got, b.body, b.opts.Quiet)
			}
		})
	}
}
