package images

import (
	svc "github.com/berth-project/berth/service/images"
	"github.com/moby/moby/api/types/image"
)

// inspectResponse is GET /images/{name}/json in API 1.50's shape: Parent
// (the local parent, as builds and commits record it), Comment,
// DockerVersion and Author are always present, which moby's current types
// (1.52+) drop or omit when empty.
type inspectResponse struct {
	image.InspectResponse
	Config        *svc.ConfigJSON `json:",omitempty"` // keeps a CMD [] as []
	Parent        string
	Comment       string
	DockerVersion string
	Author        string
}

func legacyInspect(resp *image.InspectResponse, img *svc.Image) inspectResponse {
	out := inspectResponse{InspectResponse: *resp, Comment: resp.Comment, Author: resp.Author}
	if resp.Config != nil {
		c := svc.NewConfigJSON(*resp.Config)
		out.Config = &c
	}
	if img != nil && img.Parent != "" {
		out.Parent = img.Parent.String()
	}
	return out
}
