package containers

import (
	"context"
	"io"

	"github.com/berth-project/berth/service/images"

	svc "github.com/berth-project/berth/service/containers"
	"github.com/berth-project/berth/service/containers/execs"
	"github.com/berth-project/berth/service/containers/logs"
	"github.com/moby/moby/api/types/container"
)

// Backend is what the handlers need from the containers service and
// those beside it.
type Backend interface {
	archiveBackend
	procsBackend
	execBackend
	logsBackend
	Create(req svc.CreateRequest) (string, error)
	CreateAndStart(req svc.CreateRequest) (string, error)
	Start(ref string) error
	Stop(ref string, timeout *int, signal string) error
	Kill(ref, signal string) error
	Pause(ref string) error
	Commit(ref string, o svc.CommitOptions) (*images.Image, error)
	Unpause(ref string) error
	Restart(ref string, timeout *int, signal string) error
	Remove(ref string, o svc.RemoveOptions) error
	RemoveLink(name string) error
	Rename(ref, name string) error
	Update(ref string, u container.UpdateConfig) ([]string, error)
	Wait(ctx context.Context, ref string, cond container.WaitCondition) (svc.WaitResult, error)
	Attach(ctx context.Context, ref string, o svc.AttachOptions) error
	Resize(ref string, h, w uint16) error
	List(o svc.ListOptions) ([]container.Summary, error)
	Inspect(ref string, size bool) (*container.InspectResponse, error)
	Prune(labels map[string]string) (container.PruneReport, error)
}

// procsBackend is top and stats (service/containers/procs).
type procsBackend interface {
	Stats(ctx context.Context, ref string, stream bool, fn func(container.StatsResponse) error) error
	Top(ref, psArgs string) (*container.TopResponse, error)
}

// execBackend is docker exec (service/containers/execs).
type execBackend interface {
	ExecCreate(ref string, req container.ExecCreateRequest) (string, error)
	ExecStart(ctx context.Context, id string, o execs.StartOptions) error
	ExecInspect(id string) (*container.ExecInspectResponse, error)
	ExecResize(id string, h, w uint16) error
}

// logsBackend is docker logs and attach's logs=1 (service/containers/logs).
type logsBackend interface {
	Logs(ctx context.Context, ref string, o logs.Options, stdout, stderr io.Writer) error
	Replay(ref string, stdout, stderr io.Writer) error
}
