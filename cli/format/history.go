package format

import (
	"strconv"
	"strings"
	"time"

	"github.com/moby/moby/api/types/image"
)

// History table formats of docker history.
const (
	DefaultHistoryTable = "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
	QuietHistory        = "{{.ID}}"
)

// HistoryHeader names the columns of docker history.
var HistoryHeader = map[string]string{
	"ID":           "IMAGE",
	"CreatedSince": "CREATED",
	"CreatedAt":    "CREATED AT",
	"CreatedBy":    "CREATED BY",
	"Size":         "SIZE",
	"Comment":      "COMMENT",
}

// History is one layer row of docker history.
type History struct {
	H     image.HistoryResponseItem
	Trunc bool
	Human bool
	Now   time.Time
}

// MarshalJSON prints every column.
func (h History) MarshalJSON() ([]byte, error) { return marshalMethods(h) }

// ID is the layer's image ID or "<missing>".
func (h History) ID() string {
	if h.Trunc && h.H.ID != "<missing>" {
		return TruncateID(h.H.ID)
	}
	return h.H.ID
}

// CreatedAt is the creation time, RFC 3339 unless human.
func (h History) CreatedAt() string {
	return time.Unix(h.H.Created, 0).Format(time.RFC3339)
}

// CreatedSince is the age with -H, else the RFC 3339 time.
func (h History) CreatedSince() string {
	if !h.Human {
		return h.CreatedAt()
	}
	now := h.Now
	if now.IsZero() {
		now = time.Now()
	}
	return Ago(time.Unix(h.H.Created, 0), now)
}

// CreatedBy is the creating command, cut to 45 characters unless --no-trunc.
func (h History) CreatedBy() string {
	by := strings.ReplaceAll(h.H.CreatedBy, "\t", " ")
	if h.Trunc {
		by = Ellipsis(by, 45)
	}
	return by
}

// Size is the layer size, human with -H.
func (h History) Size() string {
	if h.Human {
		return HumanSize(h.H.Size)
	}
	return strconv.FormatInt(h.H.Size, 10)
}

// Comment is the layer comment.
func (h History) Comment() string { return h.H.Comment }
