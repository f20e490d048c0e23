package images

import (
	"encoding/json"
	"testing"

	svc "github.com/berth-project/berth/service/images"
	"github.com/moby/moby/api/types/image"
	"github.com/opencontainers/go-digest"
)

func TestLegacyInspect(t *testing.T) {
	parent := digest.FromString("parent")
	for _, tc := range []struct {
		name string
		resp image.InspectResponse
		img  *svc.Image
		want map[string]string
	}{
		{"committed", image.InspectResponse{ID: "sha256:x", Comment: "msg", Author: "me"}, &svc.Image{Parent: parent},
			map[string]string{"Parent": parent.String(), "Comment": "msg", "Author": "me", "DockerVersion": ""}},
		{"imported", image.InspectResponse{ID: "sha256:y"}, &svc.Image{},
			map[string]string{"Parent": "", "Comment": "", "Author": "", "DockerVersion": ""}},
	} {
		b, err := json.Marshal(legacyInspect(&tc.resp, tc.img))
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]any
		_ = json.Unmarshal(b, &got)
		for k, v := range tc.want {
			if g, ok := got[k]; !ok || g != v {
				t.Errorf("%s: %s = %#v (present %v), want %q", tc.name, k, g, ok, v)
			}
		}
		if got["Id"] != tc.resp.ID {
			t.Errorf("%s: Id %v", tc.name, got["Id"])
		}
	}
}
