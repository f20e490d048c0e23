package native

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/berth-project/berth/runtime/oci"
	"github.com/moby/moby/api/types/container"
)

// TestSeccompFilterCache compiles Docker's default profile with the built
// berth-seccomp beside berth-monitor (make build) and checks the cache
// serves the second call.
func TestSeccompFilterCache(t *testing.T) {
	monitor, _ := filepath.Abs("../../bin/berth-monitor")
	if _, err := os.Stat(filepath.Join(filepath.Dir(monitor), "berth-seccomp")); err != nil {
		t.Skip("bin/berth-seccomp not built (make build)")
	}
	spec, err := oci.Spec(oci.Options{ID: "x", Rootfs: "/x", Config: &container.Config{Cmd: []string{"true"}}})
	if err != nil {
		t.Fatal(err)
	}
	if spec.Linux.Seccomp == nil || len(spec.Linux.Seccomp.Syscalls) < 10 {
		t.Fatal("no default seccomp profile in the spec")
	}
	dir := t.TempDir()
	path, err := seccompFilter(dir, monitor, spec.Linux.Seccomp)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// classic BPF: 8-byte instructions; Docker's profile takes hundreds
	if st.Size()%8 != 0 || st.Size() < 8*100 {
		t.Fatalf("filter of %d bytes", st.Size())
	}
	if err := os.WriteFile(path, []byte("cached!!"), 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := seccompFilter(dir, monitor, spec.Linux.Seccomp)
	if err != nil || again != path {
		t.Fatalf("second call: %s %v", again, err)
	}
	if b, _ := os.ReadFile(path); string(b) != "cached!!" {
		t.Fatal("the profile was compiled again")
	}
	// a different profile is a different filter
	spec.Linux.Seccomp.Syscalls = spec.Linux.Seccomp.Syscalls[1:]
	other, err := seccompFilter(dir, monitor, spec.Linux.Seccomp)
	if err != nil || other == path {
		t.Fatalf("changed profile: %s %v", other, err)
	}
	// a bad policy is reported with the compiler's words
	spec.Linux.Seccomp.DefaultAction = "SCMP_ACT_NOPE"
	if _, err := seccompFilter(dir, monitor, spec.Linux.Seccomp); err == nil {
		t.Fatal("bad action accepted")
	}
}
