package images

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/berth-project/berth/api/httputil"
	svc "github.com/berth-project/berth/service/images"
	"github.com/moby/moby/api/types/jsonstream"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// pull is POST /images/create?fromImage=…: the registry's progress as
// docker's JSON messages. An error before the first message is the
// response's status; after it, the stream's last message.
// Without a tag (and none in fromImage) every tag is pulled, as dockerd does.
func (h handlers) pull(w http.ResponseWriter, r *http.Request, ref string, all bool) error {
	p, err := platformName(r)
	if err != nil {
		return err
	}
	ps := &progressStream{w: w}
	o := svc.PullOptions{Auth: httputil.RegistryAuth(r), Platform: p}
	if all {
		err = h.b.PullAll(r.Context(), ref, o, ps)
	} else {
		err = h.b.Pull(r.Context(), ref, o, ps)
	}
	if err == nil {
		return nil
	}
	if !ps.started() {
		return err
	}
	ps.send(errorMessage(err))
	return nil
}

// progressStream sends progress messages, starting the 200 response with
// the first; layers report from several goroutines.
type progressStream struct {
	mu sync.Mutex
	w  http.ResponseWriter
	s  *httputil.JSONStream
}

func (p *progressStream) started() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.s != nil
}

func (p *progressStream) send(v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.s == nil {
		p.s = httputil.NewJSONStream(p.w)
	}
	_ = p.s.Send(v)
}

func (p *progressStream) Layer(id, status string, current, total int64) {
	m := jsonstream.Message{Status: status, ID: id}
	if current > 0 || total > 0 {
		m.Progress = &jsonstream.Progress{Current: current, Total: total}
	}
	p.send(m)
}

func (p *progressStream) Line(status string) { p.send(jsonstream.Message{Status: status}) }

// push is POST /images/{name}/push?tag=…, streamed as pull is.
func (h handlers) push(w http.ResponseWriter, r *http.Request, name string) error {
	p, err := platformSince(r, "1.46")
	if err != nil {
		return err
	}
	ps := &progressStream{w: w}
	err = h.b.Push(r.Context(), name, r.URL.Query().Get("tag"), p, httputil.RegistryAuth(r), ps)
	if err == nil {
		return nil
	}
	if !ps.started() {
		return err
	}
	ps.send(errorMessage(err))
	return nil
}

// Result sends a pushed tag's digest as the aux message the CLI reads.
func (p *progressStream) Result(res svc.PushResult) {
	b, _ := json.Marshal(res)
	raw := json.RawMessage(b)
	p.send(jsonstream.Message{Aux: &raw})
}

// platformName reads a pull's platform parameter, "os[/arch[/variant]]"
// as the client formats it (a push's is JSON, see platformSince).
func platformName(r *http.Request) (*ocispec.Platform, error) {
	s := r.URL.Query().Get("platform")
	if s == "" {
		return nil, nil
	}
	p, err := svc.ParsePlatform(s)
	if err != nil {
		return nil, err
	}
	return &p, nil
}
