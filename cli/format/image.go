package format

import (
	"sort"
	"strconv"
	"time"

	"github.com/distribution/reference"
	"github.com/moby/moby/api/types/image"
)

// Image table formats of docker images (the classic table, not --tree).
const (
	DefaultImageTable       = "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	DefaultImageTableDigest = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	QuietImage              = "{{.ID}}"
)

// ImageHeader names the columns of docker images.
var ImageHeader = map[string]string{
	"Repository":   "REPOSITORY",
	"Tag":          "TAG",
	"Digest":       "DIGEST",
	"ID":           "IMAGE ID",
	"CreatedSince": "CREATED",
	"CreatedAt":    "CREATED AT",
	"Size":         "SIZE",
	"Containers":   "CONTAINERS",
	"SharedSize":   "SHARED SIZE",
	"UniqueSize":   "UNIQUE SIZE",
	"VirtualSize":  "SIZE",
}

// ImageFormat picks the template for docker images from its flags.
func ImageFormat(format string, quiet, digests bool) string {
	switch {
	case quiet:
		return QuietImage
	case format == "" || format == tableKey:
		if digests {
			return DefaultImageTableDigest
		}
		return DefaultImageTable
	}
	return format
}

// Image is one row of docker images: an image under one repository and tag.
type Image struct {
	I      image.Summary
	Repo   string
	TagStr string
	Dgst   string
	Trunc  bool
	Now    time.Time
}

// MarshalJSON prints every column, like `docker images --format json`.
func (c Image) MarshalJSON() ([]byte, error) { return marshalMethods(c) }

// ID is the image ID without "sha256:", 12 characters unless --no-trunc.
func (c Image) ID() string {
	if c.Trunc {
		return TruncateID(c.I.ID)
	}
	return c.I.ID
}

// Repository is the familiar repository name or "<none>".
func (c Image) Repository() string { return c.Repo }

// Tag is the tag or "<none>".
func (c Image) Tag() string { return c.TagStr }

// Digest is the repository digest or "<none>".
func (c Image) Digest() string { return c.Dgst }

// CreatedSince is the age, e.g. "2 weeks ago".
func (c Image) CreatedSince() string {
	now := c.Now
	if now.IsZero() {
		now = time.Now()
	}
	return Ago(time.Unix(c.I.Created, 0), now)
}

// CreatedAt is the creation time.
func (c Image) CreatedAt() string { return time.Unix(c.I.Created, 0).String() }

// Size is the image size.
func (c Image) Size() string { return HumanSize(c.I.Size) }

// VirtualSize is the image size (kept for old templates).
func (c Image) VirtualSize() string { return HumanSize(c.I.Size) }

// Containers counts the containers using the image, or "N/A".
func (c Image) Containers() string {
	if c.I.Containers == -1 {
		return "N/A"
	}
	return strconv.FormatInt(c.I.Containers, 10)
}

// SharedSize is the size shared with other images, or "N/A".
func (c Image) SharedSize() string {
	if c.I.SharedSize == -1 {
		return "N/A"
	}
	return HumanSize(c.I.SharedSize)
}

// UniqueSize is Size minus SharedSize, or "N/A".
func (c Image) UniqueSize() string {
	if c.I.SharedSize == -1 {
		return "N/A"
	}
	return HumanSize(c.I.Size - c.I.SharedSize)
}

func isDangling(i image.Summary) bool {
	if len(i.RepoTags) == 0 && len(i.RepoDigests) == 0 {
		return true
	}
	return len(i.RepoTags) == 1 && i.RepoTags[0] == "<none>:<none>" && len(i.RepoDigests) == 1 && i.RepoDigests[0] == "<none>@<none>"
}

// ImageRows expands each image into one row per repository tag (and per
// digest with --digests), as docker's classic images table does.
func ImageRows(images []image.Summary, digests, trunc bool, now time.Time) []Row {
	var rows []Row
	for _, img := range images {
		if isDangling(img) {
			rows = append(rows, Image{I: img, Repo: "<none>", TagStr: "<none>", Dgst: "<none>", Trunc: trunc, Now: now})
			continue
		}
		repoTags := map[string][]string{}
		repoDigests := map[string][]string{}
		for _, s := range img.RepoTags {
			ref, err := reference.ParseNormalizedNamed(s)
			if err != nil {
				continue
			}
			if nt, ok := ref.(reference.NamedTagged); ok {
				name := reference.FamiliarName(ref)
				repoTags[name] = append(repoTags[name], nt.Tag())
			}
		}
		for _, s := range img.RepoDigests {
			ref, err := reference.ParseNormalizedNamed(s)
			if err != nil {
				continue
			}
			if c, ok := ref.(reference.Canonical); ok {
				name := reference.FamiliarName(ref)
				repoDigests[name] = append(repoDigests[name], c.Digest().String())
			}
		}
		add := func(repo, tag, dgst string) {
			rows = append(rows, Image{I: img, Repo: repo, TagStr: tag, Dgst: dgst, Trunc: trunc, Now: now})
		}
		for _, repo := range sortedKeys(repoTags) {
			ds := repoDigests[repo]
			delete(repoDigests, repo)
			if !digests {
				ds = nil
			}
			for _, tag := range repoTags[repo] {
				if len(ds) == 0 {
					add(repo, tag, "<none>")
					continue
				}
				for _, d := range ds {
					add(repo, tag, d)
				}
			}
		}
		for _, repo := range sortedKeys(repoDigests) {
			if digests {
				for _, d := range repoDigests[repo] {
					add(repo, "<none>", d)
				}
			} else {
				add(repo, "<none>", "")
			}
		}
	}
	return rows
}

func sortedKeys(m map[string][]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
