package runc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"

	"github.com/berth-project/berth/core/runtime"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Runtime is an OCI runtime binary with its state root.
type Runtime struct {
	Binary string // e.g. "runc"
	Root   string // --root; "" for the runtime's default
}

// Command returns the runtime invocation for args, logging errors as JSON to logPath.
func (r Runtime) Command(logPath string, args ...string) *exec.Cmd {
	var full []string
	if r.Root != "" {
		full = append(full, "--root", r.Root)
	}
	if logPath != "" {
		full = append(full, "--log", logPath, "--log-format", "json")
	}
	return exec.Command(r.Binary, append(full, args...)...)
}

var _ runtime.Runtime = Runtime{}

// Name is the binary: the monitor runs it.
func (r Runtime) Name() string { return r.Binary }

// Prepare has nothing to add: runc reads config.json.
func (r Runtime) Prepare(string, *specs.Spec) error { return nil }

// Exec returns `runc exec` for req; runc hands a terminal only to a detached exec.
func (r Runtime) Exec(req runtime.ExecRequest) (*exec.Cmd, error) {
	b, err := json.Marshal(req.Process)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(req.ProcessFile, b, 0o600); err != nil {
		return nil, err
	}
	args := []string{"exec", "--process", req.ProcessFile}
	if req.PidFile != "" {
		args = append(args, "--pid-file", req.PidFile)
	}
	if req.ConsoleSocket != "" {
		args = append(args, "--tty", "--console-socket", req.ConsoleSocket)
	}
	if req.Detach {
		args = append(args, "--detach")
	}
	return r.Command(req.LogFile, append(args, req.ID)...), nil
}

// Update runs `runc update --resources -` with r.
func (r Runtime) Update(id string, _ *specs.Spec, res *specs.LinuxResources) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	cmd := r.Command("", "update", "--resources", "-", id)
	cmd.Stdin = bytes.NewReader(b)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("runtime update %s: %s: %w", id, strings.TrimSpace(string(out)), err)
	}
	return nil
}

// Orphans lists the containers runc has state for.
func (r Runtime) Orphans(string) ([]string, error) { return r.List() }

// Delete forcibly removes a container's runtime state (and kills what remains).
func (r Runtime) Delete(id string, _ *specs.Spec) error {
	out, err := r.Command("", "delete", "--force", id).CombinedOutput()
	if err != nil && !bytes.Contains(out, []byte("does not exist")) && !bytes.Contains(out, []byte("not exist")) {
		return fmt.Errorf("runtime delete %s: %s: %w", id, strings.TrimSpace(string(out)), err)
	}
	return nil
}

// List returns the IDs of the containers the runtime knows.
func (r Runtime) List() ([]string, error) {
	out, err := r.Command("", "list", "--format", "json").Output()
	if err != nil {
		return nil, err
	}
	var states []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &states); err != nil && len(bytes.TrimSpace(out)) > 0 && string(bytes.TrimSpace(out)) != "null" {
		return nil, err
	}
	ids := make([]string, len(states))
	for i, s := range states {
		ids[i] = s.ID
	}
	return ids, nil
}

// LastError returns the last error-level message in a runtime's JSON log.
func LastError(logPath string) string {
	b, _ := os.ReadFile(logPath)
	msg := ""
	for _, line := range bytes.Split(b, []byte("\n")) {
		var e struct{ Level, Msg string }
		if json.Unmarshal(line, &e) == nil && (e.Level == "error" || e.Level == "fatal") {
			msg = e.Msg
		}
	}
	for _, p := range []string{"runc create failed: ", "runc exec failed: ", "runc run failed: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

// ConsoleSocket listens where the runtime sends a terminal's master fd.
type ConsoleSocket struct {
	Path string
	ln   *net.UnixListener
}

// NewConsoleSocket listens at path.
func NewConsoleSocket(path string) (*ConsoleSocket, error) {
	_ = os.Remove(path)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	return &ConsoleSocket{Path: path, ln: ln}, nil
}

// Receive waits for the runtime to send the master fd.
func (s *ConsoleSocket) Receive() (*os.File, error) {
	c, err := s.ln.AcceptUnix()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	oob := make([]byte, unix.CmsgSpace(4))
	buf := make([]byte, 256)
	_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) == 0 {
		return nil, fmt.Errorf("no terminal fd received: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) == 0 {
		return nil, fmt.Errorf("no terminal fd received: %v", err)
	}
	return os.NewFile(uintptr(fds[0]), "console"), nil
}

// Close stops listening and removes the socket file.
func (s *ConsoleSocket) Close() error {
	err := s.ln.Close()
	os.Remove(s.Path)
	return err
}
