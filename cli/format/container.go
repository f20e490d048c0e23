package format

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
)

// Default container table formats, as in docker ps.
const (
	DefaultContainerTable = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
	QuietContainer        = "{{.ID}}"
)

// ContainerHeader names the columns of docker ps.
var ContainerHeader = map[string]string{
	"ID":           "CONTAINER ID",
	"Image":        "IMAGE",
	"Command":      "COMMAND",
	"CreatedAt":    "CREATED AT",
	"RunningFor":   "CREATED",
	"Ports":        "PORTS",
	"State":        "STATE",
	"Status":       "STATUS",
	"Size":         "SIZE",
	"Names":        "NAMES",
	"Labels":       "LABELS",
	"Mounts":       "MOUNTS",
	"LocalVolumes": "LOCAL VOLUMES",
	"Networks":     "NETWORKS",
}

// ContainerFormat picks the template for docker ps from its flags.
func ContainerFormat(format string, quiet, size bool) string {
	switch {
	case quiet:
		return QuietContainer
	case format == "" || format == tableKey:
		if size {
			return DefaultContainerTable + "\t{{.Size}}"
		}
		return DefaultContainerTable
	}
	return format
}

// Container is the row context of docker ps.
type Container struct {
	C     container.Summary
	Trunc bool
	Now   time.Time
}

// MarshalJSON prints every column, like `docker ps --format json`.
func (c Container) MarshalJSON() ([]byte, error) { return marshalMethods(c) }

// ID is the container ID, 12 characters unless --no-trunc.
func (c Container) ID() string {
	if c.Trunc {
		return TruncateID(c.C.ID)
	}
	return c.C.ID
}

// Names lists the names without the leading slash, omitting link names when truncating.
func (c Container) Names() string {
	var names []string
	for _, n := range c.C.Names {
		n = strings.TrimPrefix(n, "/")
		if c.Trunc && strings.Contains(n, "/") {
			continue
		}
		names = append(names, n)
	}
	return strings.Join(names, ",")
}

// Image is the image as given at create, shortened when it is an ID.
func (c Container) Image() string {
	img := c.C.Image
	if img == "" {
		return "<no image>"
	}
	if c.Trunc && strings.HasPrefix(img, "sha256:") {
		return TruncateID(img)
	}
	return img
}

// Command is the quoted command, cut to 20 characters unless --no-trunc.
func (c Container) Command() string {
	cmd := c.C.Command
	if c.Trunc {
		cmd = Ellipsis(cmd, 20)
	}
	return strconv.Quote(cmd)
}

// CreatedAt is the creation time.
func (c Container) CreatedAt() string { return time.Unix(c.C.Created, 0).String() }

// RunningFor is the age, e.g. "3 seconds ago".
func (c Container) RunningFor() string { return Ago(time.Unix(c.C.Created, 0), c.now()) }

func (c Container) now() time.Time {
	if c.Now.IsZero() {
		return time.Now()
	}
	return c.Now
}

// Ports lists the published and exposed ports.
func (c Container) Ports() string { return DisplayablePorts(c.C.Ports) }

// State is the state word, e.g. "running".
func (c Container) State() string { return string(c.C.State) }

// Status is the daemon's human status, e.g. "Up 3 seconds".
func (c Container) Status() string { return c.C.Status }

// Size is the writable layer size and the virtual size.
func (c Container) Size() string {
	srw := HumanSize(c.C.SizeRw)
	if c.C.SizeRootFs > 0 {
		return fmt.Sprintf("%s (virtual %s)", srw, HumanSize(c.C.SizeRootFs))
	}
	return srw
}

// Labels lists k=v pairs.
func (c Container) Labels() string {
	var l []string
	for k, v := range c.C.Labels {
		l = append(l, k+"="+v)
	}
	sort.Strings(l)
	return strings.Join(l, ",")
}

// Label returns one label's value.
func (c Container) Label(name string) string { return c.C.Labels[name] }

// Mounts lists mount names or sources.
func (c Container) Mounts() string {
	var m []string
	for _, mp := range c.C.Mounts {
		name := mp.Name
		if name == "" {
			name = mp.Source
		}
		if c.Trunc {
			name = Ellipsis(name, 15)
		}
		m = append(m, name)
	}
	return strings.Join(m, ",")
}

// LocalVolumes counts mounts of the local volume driver.
func (c Container) LocalVolumes() string {
	n := 0
	for _, mp := range c.C.Mounts {
		if mp.Driver == "local" {
			n++
		}
	}
	return strconv.Itoa(n)
}

// Networks lists the networks the container is attached to.
func (c Container) Networks() string {
	if c.C.NetworkSettings == nil {
		return ""
	}
	var n []string
	for k := range c.C.NetworkSettings.Networks {
		n = append(n, k)
	}
	sort.Strings(n)
	return strings.Join(n, ",")
}

// DisplayablePorts renders ports as docker ps does: "0.0.0.0:8080->80/tcp, 443/tcp".
func DisplayablePorts(ports []container.PortSummary) string {
	out := make([]string, 0, len(ports))
	sorted := append([]container.PortSummary(nil), ports...)
	sort.SliceStable(sorted, func(i, j int) bool {
		a, b := sorted[i], sorted[j]
		if a.PrivatePort != b.PrivatePort {
			return a.PrivatePort < b.PrivatePort
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.IP.String() < b.IP.String()
	})
	for _, p := range sorted {
		if p.PublicPort == 0 {
			out = append(out, fmt.Sprintf("%d/%s", p.PrivatePort, p.Type))
			continue
		}
		host := ""
		if p.IP.IsValid() {
			host = p.IP.String()
			if p.IP.Is6() {
				host = "[" + host + "]"
			}
			host += ":"
		}
		out = append(out, fmt.Sprintf("%s%d->%d/%s", host, p.PublicPort, p.PrivatePort, p.Type))
	}
	return strings.Join(out, ", ")
}
