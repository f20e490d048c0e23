package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// blobRetries is how often a cut blob download is resumed.
const blobRetries = 5

// blobClient is an authenticated client for one repository's blobs
// (go-containerregistry's transport: the token dance, retries).
type blobClient struct {
	once sync.Once
	hc   *http.Client
	err  error
}

func (im *Image) blobHTTP(ctx context.Context) (*http.Client, error) {
	im.blobs.once.Do(func() { im.blobs.hc, im.blobs.err = im.ep.client(ctx, transport.PullScope) })
	return im.blobs.hc, im.blobs.err
}

// OpenBlob streams a blob. A connection cut in the middle is resumed with
// a Range request (up to blobRetries times); reading to the end fails if
// the bytes do not match the digest (and the size).
func (im *Image) OpenBlob(ctx context.Context, d ocispec.Descriptor) (io.ReadCloser, error) {
	hc, err := im.blobHTTP(ctx)
	if err != nil {
		return nil, err
	}
	r := &resumingReader{ctx: ctx, hc: hc, url: im.ep.blobURL(d.Digest), desc: d, verifier: d.Digest.Verifier()}
	if err := r.open(); err != nil {
		return nil, err
	}
	return r, nil
}

type resumingReader struct {
	ctx      context.Context
	hc       *http.Client
	url      string
	desc     ocispec.Descriptor
	body     io.ReadCloser
	off      int64
	retries  int
	verifier digest.Verifier
}

// open (re)starts the download at r.off.
func (r *resumingReader) open() error {
	req, err := http.NewRequestWithContext(r.ctx, http.MethodGet, r.url, nil)
	if err != nil {
		return err
	}
	if r.off > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(r.off, 10)+"-")
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusOK && r.off > 0:
		// no range support: skip what we have
		if _, err := io.CopyN(io.Discard, resp.Body, r.off); err != nil {
			resp.Body.Close()
			return err
		}
	case resp.StatusCode == http.StatusOK, resp.StatusCode == http.StatusPartialContent && r.off > 0:
	default:
		defer resp.Body.Close()
		return transport.CheckError(resp, http.StatusOK)
	}
	r.body = resp.Body
	return nil
}

func (r *resumingReader) Read(p []byte) (int, error) {
	for {
		n, err := r.body.Read(p)
		if n > 0 {
			r.off += int64(n)
			r.verifier.Write(p[:n])
			if r.desc.Size > 0 && r.off > r.desc.Size { // never more than the manifest says
				return 0, fmt.Errorf("blob %s: more than its %d bytes: %w", r.desc.Digest, r.desc.Size, errdefs.ErrDataLoss)
			}
		}
		switch {
		case err == nil:
			return n, nil
		case errors.Is(err, io.EOF):
			if r.desc.Size > 0 && r.off != r.desc.Size {
				return n, fmt.Errorf("blob %s: %d bytes, want %d: %w", r.desc.Digest, r.off, r.desc.Size, errdefs.ErrDataLoss)
			}
			if !r.verifier.Verified() {
				return n, fmt.Errorf("blob %s: content does not match its digest: %w", r.desc.Digest, errdefs.ErrDataLoss)
			}
			return n, io.EOF
		case r.ctx.Err() != nil || r.retries >= blobRetries:
			return n, err
		}
		// cut: resume where it stopped
		r.body.Close()
		r.retries++
		select {
		case <-time.After(time.Duration(r.retries) * 200 * time.Millisecond):
		case <-r.ctx.Done():
			return n, r.ctx.Err()
		}
		if oerr := r.open(); oerr != nil {
			return n, fmt.Errorf("blob %s: resuming at %d: %w", r.desc.Digest, r.off, oerr)
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (r *resumingReader) Close() error {
	if r.body == nil {
		return nil
	}
	return r.body.Close()
}
