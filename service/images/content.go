package images

import (
	"io"
	"os"

	"github.com/opencontainers/go-digest"
)

// The content store and unpacked layers as code that moves images in and
// out of the service sees them (service/images/archive). What it writes
// is garbage until an image recorded with Record needs it: hold it with
// a Lease meanwhile.

// ReadBlob returns a stored blob's bytes.
func (s *Service) ReadBlob(d digest.Digest) ([]byte, error) { return s.content.ReadAll(d) }

// OpenBlob opens a stored blob. The file stays readable after the blob is
// removed.
func (s *Service) OpenBlob(d digest.Digest) (*os.File, error) { return s.content.Open(d) }

// IngestBlob stores r durably under its digest; created is false if the
// store had it already.
func (s *Service) IngestBlob(r io.Reader) (d digest.Digest, size int64, created bool, err error) {
	return s.content.Ingest(r, "")
}

// IngestBlobUnsynced is IngestBlob without the fsync, for content that is
// mostly thrown away again: SyncBlob what is kept before recording it.
func (s *Service) IngestBlobUnsynced(r io.Reader) (d digest.Digest, size int64, created bool, err error) {
	return s.content.IngestUnsynced(r, "")
}

// SyncBlob makes a blob stored with IngestBlobUnsynced durable.
func (s *Service) SyncBlob(d digest.Digest) error { return s.content.Sync(d) }

// HasLayer reports whether the layer chain is unpacked.
func (s *Service) HasLayer(chain digest.Digest) bool { return s.snaps.Exists(chain) }

// UnpackLayer unpacks an uncompressed layer tar as chain, on top of the
// chain before it, unless chain is unpacked already (the tar is then read
// to its end).
func (s *Service) UnpackLayer(chain digest.Digest, layer io.Reader) error {
	return s.snaps.Apply(chain, layer)
}
