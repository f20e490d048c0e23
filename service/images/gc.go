package images

import (
	"errors"
	"fmt"
	"sync"

	"github.com/opencontainers/go-digest"
)

// Garbage collection. Image records are the only roots: a blob or an
// unpacked layer that no image needs is garbage, unless an operation in
// flight (a load) holds a lease on it because it is about to record an
// image that needs it. Deleting an image collects what it alone used; what
// a lease kept is collected when the lease ends; and at start-up whatever
// a crash left between writing content and recording an image is swept.

// referenced returns the blobs and layer chains that image records need.
// The caller holds s.mu.
func (s *Service) referenced() (blobs, chains map[digest.Digest]bool) {
	blobs, chains = map[digest.Digest]bool{}, map[digest.Digest]bool{}
	for _, img := range s.images {
		blobs[img.ID], blobs[img.Manifest] = true, true
		for _, l := range img.Layers {
			blobs[l.Digest] = true
		}
		for _, c := range img.ChainIDs() {
			chains[c] = true
		}
	}
	return blobs, chains
}

// lease keeps blobs and chains from collection until unlease ends the
// leases; unlease then collects those that nothing references.
func (s *Service) lease(ds ...digest.Digest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leases == nil {
		s.leases = map[digest.Digest]int{}
	}
	for _, d := range ds {
		s.leases[d]++
	}
}

// unlease ends leases taken with lease and collects what they kept alive,
// as blob and as chain, when no image needs it.
func (s *Service) unlease(ds ...digest.Digest) {
	s.mu.Lock()
	var free []digest.Digest
	for _, d := range ds {
		if s.leases[d]--; s.leases[d] <= 0 {
			delete(s.leases, d)
			if s.deferred[d] {
				delete(s.deferred, d)
				free = append(free, d)
			}
		}
	}
	s.mu.Unlock()
	if len(free) > 0 {
		_, _ = s.collect(free, free)
	}
}

// collect deletes the blobs and layer snapshots given unless an image
// record or a lease needs them (a leased one is retried when its lease
// ends). It returns the chains it removed. Deleting happens under the
// lock, so no image can be recorded on top of content being removed.
func (s *Service) collect(blobs, chains []digest.Digest) ([]digest.Digest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keepBlobs, keepChains := s.referenced()
	var errs []error
	for _, d := range blobs {
		switch {
		case keepBlobs[d]:
		case s.leases[d] > 0:
			s.deferLocked(d)
		default:
			if err := s.content.Delete(d); err != nil {
				errs = append(errs, err)
			}
		}
	}
	var removed []digest.Digest
	for _, c := range chains {
		switch {
		case keepChains[c] || !s.snaps.Exists(c):
		case s.leases[c] > 0:
			s.deferLocked(c)
		default:
			if err := s.snaps.Remove(c); err != nil {
				errs = append(errs, err)
				continue
			}
			removed = append(removed, c)
		}
	}
	return removed, errors.Join(errs...)
}

func (s *Service) deferLocked(d digest.Digest) {
	if s.deferred == nil {
		s.deferred = map[digest.Digest]bool{}
	}
	s.deferred[d] = true
}

// sweep removes every blob and unpacked layer no image record needs: what
// an interrupted import, build, commit or load left behind. It runs before
// the service is shared, so nothing is in flight.
func (s *Service) sweep() error {
	var blobs []digest.Digest
	err := s.content.Walk(func(d digest.Digest, _ int64) error {
		blobs = append(blobs, d)
		return nil
	})
	if err != nil {
		return fmt.Errorf("sweep content: %w", err)
	}
	chains, err := s.snaps.List()
	if err != nil {
		return fmt.Errorf("sweep layers: %w", err)
	}
	_, err = s.collect(blobs, chains)
	return err
}

// Lease is the hold an operation in flight (a load) has on content: what
// it is about to record images with is not collected meanwhile, and what
// it wrote or unpacked is collected when it ends unless an image recorded
// by then needs it. Its methods may be called from several goroutines
// (a pull's layers); Release once they are done.
type Lease struct {
	s      *Service
	mu     sync.Mutex
	held   []digest.Digest // blobs and chains leased
	blobs  []digest.Digest // blobs the operation wrote
	chains []digest.Digest // layers the operation unpacked
}

// NewLease starts a lease; Release ends it.
func (s *Service) NewLease() *Lease { return &Lease{s: s} }

// HoldBlob leases a blob if the store has it, so no concurrent rmi
// removes it before the operation records the images that need it, and
// returns its size. ok is false, and nothing is leased, if the store
// does not have it.
func (l *Lease) HoldBlob(d digest.Digest) (size int64, ok bool) {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	size, err := s.content.Info(d)
	if err != nil {
		return 0, false
	}
	if s.leases == nil {
		s.leases = map[digest.Digest]int{}
	}
	s.leases[d]++
	l.mu.Lock()
	l.held = append(l.held, d)
	l.mu.Unlock()
	return size, true
}

// HoldChain leases an unpacked layer (or one about to be unpacked).
func (l *Lease) HoldChain(c digest.Digest) {
	l.s.lease(c)
	l.mu.Lock()
	l.held = append(l.held, c)
	l.mu.Unlock()
}

// Wrote adds blobs the operation stored to what Release collects.
func (l *Lease) Wrote(blobs ...digest.Digest) {
	l.mu.Lock()
	l.blobs = append(l.blobs, blobs...)
	l.mu.Unlock()
}

// Unpacked adds layers the operation unpacked to what Release collects.
func (l *Lease) Unpacked(chains ...digest.Digest) {
	l.mu.Lock()
	l.chains = append(l.chains, chains...)
	l.mu.Unlock()
}

// Release ends the leases and removes what the operation wrote or
// unpacked that no image needs: everything when it failed, its scratch
// content (an archive's own files, compressed layers, …) when it
// succeeded.
func (l *Lease) Release() {
	l.mu.Lock()
	held, blobs, chains := l.held, l.blobs, l.chains
	l.mu.Unlock()
	l.s.unlease(held...)
	_, _ = l.s.collect(blobs, chains)
}
