package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"testing"

	"github.com/berth-project/berth/service/images"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// savedFixture: busybox:latest and busybox:1 (two layers), other:1 sharing
// the base layer, and an untagged image.
func savedFixture(t *testing.T) (*images.Service, string) {
	t.Helper()
	s, root := newService(t)
	base, err := s.Import(rootfsTar(t, "base"), images.ImportOptions{Ref: "busybox"})
	if err != nil {
		t.Fatal(err)
	}
	top, err := s.AddLayer(rootfsTar(t, "top"), base.Config.RootFS.DiffIDs)
	if err != nil {
		t.Fatal(err)
	}
	cfg := *base.Config
	cfg.RootFS.DiffIDs = append(append([]digest.Digest(nil), base.Config.RootFS.DiffIDs...), top.Digest)
	cfg.History = append(append([]ocispec.History(nil), cfg.History...), ocispec.History{CreatedBy: "top"})
	if _, err := s.Commit(&cfg, append(append([]ocispec.Descriptor(nil), base.Layers...), top), base.ID, "busybox:1", "other:1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Import(rootfsTar(t, "loose"), images.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	return s, root
}

func save(t *testing.T, s *images.Service, names ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Save(context.Background(), s, names, SaveOptions{}, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestSaveFormat checks an archive against both layouts it carries: the
// docker-archive (manifest.json, repositories) and the OCI image layout
// spec (oci-layout, index.json, content-addressed blobs).
func TestSaveFormat(t *testing.T) {
	s, _ := savedFixture(t)
	archive := save(t, s, "busybox", "other:1")
	files, order := readTar(t, archive)

	// Entry order is Docker's directory walk; no other files.
	var want []string
	want = append(want, "blobs/", "blobs/sha256/")
	var blobNames []string
	for n := range files {
		if strings.HasPrefix(n, "blobs/") {
			blobNames = append(blobNames, n)
		}
	}
	want = append(want, sortStrings(blobNames)...)
	want = append(want, "index.json", "manifest.json", "oci-layout", "repositories")
	if !reflect.DeepEqual(order, want) {
		t.Fatalf("entries:\n%v\nwant\n%v", order, want)
	}
	// Every blob is content-addressed.
	for _, n := range blobNames {
		if got := digest.FromBytes(files[n]); "blobs/sha256/"+got.Encoded() != n {
			t.Errorf("%s holds %s", n, got)
		}
	}

	// docker-archive: manifest.json.
	var manifest []manifestItem
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 2 {
		t.Fatalf("manifest.json has %d images", len(manifest))
	}
	tags := map[string][]string{}
	for _, m := range manifest {
		cfg := files[m.Config]
		if cfg == nil {
			t.Fatalf("config %s missing", m.Config)
		}
		var c struct {
			RootFS struct {
				DiffIDs []digest.Digest `json:"diff_ids"`
			} `json:"rootfs"`
		}
		if err := json.Unmarshal(cfg, &c); err != nil {
			t.Fatal(err)
		}
		if len(m.Layers) != len(c.RootFS.DiffIDs) {
			t.Fatalf("%d layers for %d diff IDs", len(m.Layers), len(c.RootFS.DiffIDs))
		}
		for i, l := range m.Layers {
			if digest.FromBytes(files[l]) != c.RootFS.DiffIDs[i] {
				t.Errorf("layer %s is not diff ID %s", l, c.RootFS.DiffIDs[i])
			}
			if src := m.LayerSources[c.RootFS.DiffIDs[i]]; src.Digest != c.RootFS.DiffIDs[i] || src.MediaType != ocispec.MediaTypeImageLayer || src.Size != int64(len(files[l])) {
				t.Errorf("LayerSources[%s] = %+v", c.RootFS.DiffIDs[i], src)
			}
		}
		tags[path.Base(m.Config)] = m.RepoTags
	}
	b1, _ := s.Resolve("busybox:1")
	bl, _ := s.Resolve("busybox:latest")
	if got := tags[b1.ID.Encoded()]; !reflect.DeepEqual(got, []string{"busybox:1", "other:1"}) {
		t.Errorf("RepoTags of busybox:1: %v", got)
	}
	if got := tags[bl.ID.Encoded()]; !reflect.DeepEqual(got, []string{"busybox:latest"}) {
		t.Errorf("RepoTags of busybox:latest: %v", got)
	}
	// The child names its parent, which is in the same archive.
	for _, m := range manifest {
		if path.Base(m.Config) == b1.ID.Encoded() && m.Parent != bl.ID {
			t.Errorf("Parent = %q, want %s", m.Parent, bl.ID)
		}
	}
	var repos map[string]map[string]string
	if err := json.Unmarshal(files["repositories"], &repos); err != nil {
		t.Fatal(err)
	}
	top := b1.Config.RootFS.DiffIDs[1].Encoded()
	if repos["busybox"]["1"] != top || repos["other"]["1"] != top || repos["busybox"]["latest"] != bl.Config.RootFS.DiffIDs[0].Encoded() {
		t.Errorf("repositories: %v", repos)
	}

	// OCI image layout.
	if got := string(files["oci-layout"]); got != `{"imageLayoutVersion": "1.0.0"}` {
		t.Errorf("oci-layout: %s", got)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(files["index.json"], &idx); err != nil {
		t.Fatal(err)
	}
	if idx.SchemaVersion != 2 || idx.MediaType != ocispec.MediaTypeImageIndex || len(idx.Manifests) != 3 {
		t.Fatalf("index.json: %s", files["index.json"])
	}
	names := map[string]string{}
	for _, d := range idx.Manifests {
		mb := blob(t, files, d)
		var m ocispec.Manifest
		if err := json.Unmarshal(mb, &m); err != nil {
			t.Fatal(err)
		}
		if d.MediaType != ocispec.MediaTypeImageManifest || m.MediaType != ocispec.MediaTypeImageManifest || m.SchemaVersion != 2 {
			t.Errorf("manifest %s: %s", d.Digest, mb)
		}
		img, ok := s.Get(m.Config.Digest)
		if !ok || m.Config.MediaType != ocispec.MediaTypeImageConfig {
			t.Fatalf("manifest config %+v", m.Config)
		}
		if img.Manifest != d.Digest {
			t.Errorf("archive manifest %s differs from the stored one %s", d.Digest, img.Manifest)
		}
		blob(t, files, m.Config)
		for _, l := range m.Layers {
			blob(t, files, l)
		}
		names[d.Annotations[annotationImageName]] = d.Annotations[ocispec.AnnotationRefName]
	}
	wantNames := map[string]string{"docker.io/library/busybox:latest": "latest", "docker.io/library/busybox:1": "1", "docker.io/library/other:1": "1"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("index names: %v", names)
	}

	// The same images give the same bytes.
	if !bytes.Equal(archive, save(t, s, "busybox", "other:1")) {
		t.Error("saving twice gave different archives")
	}
}

// blob returns a descriptor's blob after checking its digest and size.
func blob(t *testing.T, files map[string][]byte, d ocispec.Descriptor) []byte {
	t.Helper()
	b, ok := files["blobs/sha256/"+d.Digest.Encoded()]
	if !ok {
		t.Fatalf("blob %s missing", d.Digest)
	}
	if int64(len(b)) != d.Size || digest.FromBytes(b) != d.Digest {
		t.Fatalf("blob %s: %d bytes, digest %s; descriptor says %d", d.Digest, len(b), digest.FromBytes(b), d.Size)
	}
	return b
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func TestSaveNames(t *testing.T) {
	s, _ := savedFixture(t)
	b1, _ := s.Resolve("busybox:1")
	loose := s.List(images.ListOptions{Dangling: ptr(true)})[0].ID
	for _, tc := range []struct {
		names   []string
		want    map[string][]string // image ID → RepoTags
		err     string
		errKind error
	}{
		{names: []string{"busybox"}, want: map[string][]string{b1.ID.String(): {"busybox:1"}, mustID(t, s, "busybox"): {"busybox:latest"}}},
		{names: []string{"busybox:1"}, want: map[string][]string{b1.ID.String(): {"busybox:1"}}},
		{names: []string{"busybox:1", "busybox:1", b1.ID.String()}, want: map[string][]string{b1.ID.String(): {"busybox:1"}}},
		{names: []string{loose}, want: map[string][]string{loose: nil}},
		{names: []string{strings.TrimPrefix(loose, "sha256:")[:12]}, want: map[string][]string{loose: nil}},
		{names: []string{loose[:19]}, want: map[string][]string{loose: nil}},
		{names: []string{"nope:1"}, err: "reference does not exist", errKind: errdefs.ErrNotFound},
		{names: []string{"busybox:2"}, err: "reference does not exist", errKind: errdefs.ErrNotFound},
		{names: []string{"nope"}, err: "No such image: nope", errKind: errdefs.ErrNotFound},
		{names: []string{"busybox", "nope"}, err: "No such image: nope", errKind: errdefs.ErrNotFound},
		{names: []string{"Bad"}, err: "invalid reference format", errKind: errdefs.ErrInvalidArgument},
	} {
		t.Run(strings.Join(tc.names, ","), func(t *testing.T) {
			var buf bytes.Buffer
			err := Save(context.Background(), s, tc.names, SaveOptions{}, &buf)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.Is(err, tc.errKind) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if buf.Len() != 0 {
					t.Fatal("wrote before failing")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			files, _ := readTar(t, buf.Bytes())
			var manifest []manifestItem
			if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, m := range manifest {
				got["sha256:"+path.Base(m.Config)] = m.RepoTags
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("saved %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSavePlatform(t *testing.T) {
	s, _ := savedFixture(t)
	other := "arm64"
	if runtime.GOARCH == "arm64" {
		other = "amd64"
	}
	var buf bytes.Buffer
	err := Save(context.Background(), s, []string{"busybox:1"}, SaveOptions{Platform: &ocispec.Platform{OS: "linux", Architecture: other}}, &buf)
	if err == nil || !strings.Contains(err.Error(), "no suitable export target found for platform linux/"+other) {
		t.Fatalf("err = %v", err)
	}
	if err := Save(context.Background(), s, []string{"busybox:1"}, SaveOptions{Platform: &ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}}, &buf); err != nil {
		t.Fatal(err)
	}
}

func mustID(t *testing.T, s *images.Service, ref string) string {
	t.Helper()
	img, err := s.Resolve(ref)
	if err != nil {
		t.Fatal(err)
	}
	return img.ID.String()
}

func ptr[T any](v T) *T { return &v }
