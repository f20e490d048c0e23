package native

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/berth-project/berth/runtime/oci"
	"github.com/moby/moby/api/types/container"
)

// TestSeccompFilterCache compiles Docker's default profile with the built
// berth-seccomp (make build, copied beside a monitor path of its own) and
// checks the cache serves the second call, and not a changed compiler.
func TestSeccompFilterCache(t *testing.T) {
	built, err := os.ReadFile("../../bin/berth-seccomp")
	if err != nil {
		t.Skip("bin/berth-seccomp not built (make build)")
	}
	bin := t.TempDir()
	monitor, compiler := filepath.Join(bin, "berth-monitor"), filepath.Join(bin, "berth-seccomp")
	if err := os.WriteFile(compiler, built, 0o700); err != nil {
		t.Fatal(err)
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
	// another build of the compiler makes the filter again
	later := st.ModTime().Add(time.Minute)
	if err := os.Chtimes(compiler, later, later); err != nil {
		t.Fatal(err)
	}
	rebuilt, err := seccompFilter(dir, monitor, spec.Linux.Seccomp)
	if err != nil || rebuilt == path {
		t.Fatalf("changed compiler: %s %v", rebuilt, err)
	}
	if b, _ := os.ReadFile(rebuilt); string(b) == "cached!!" {
		t.Fatal("the filter of the old compiler was served")
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
