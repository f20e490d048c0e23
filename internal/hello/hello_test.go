package hello

import (
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// TestBinaryRuns runs the program natively and, where qemu-user-static is
// installed, for the other architecture too.
func TestBinaryRuns(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("needs linux to run the program, have %s", runtime.GOOS)
	}
	emulators := map[string]string{"amd64": "qemu-x86_64-static", "arm64": "qemu-aarch64-static"}
	for arch, emu := range emulators {
		t.Run(arch, func(t *testing.T) {
			var argv []string
			if arch != runtime.GOARCH {
				p, err := exec.LookPath(emu)
				if err != nil {
					t.Skipf("cannot run %s code here: %s not installed", arch, emu)
				}
				argv = append(argv, p)
			}
			bin, err := Binary(arch)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "hello")
			if err := os.WriteFile(path, bin, 0o755); err != nil {
				t.Fatal(err)
			}
			argv = append(argv, path)
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil { // a non-zero exit is an error too
				t.Fatalf("run: %v (stderr %q)", err, stderr.String())
			}
			if got := stdout.String(); got != Message {
				t.Errorf("stdout = %q, want Message", got)
			}
			if stderr.Len() != 0 {
				t.Errorf("stderr = %q, want empty", stderr.String())
			}
		})
	}
}

func TestBinaryELF(t *testing.T) {
	for arch, machine := range map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64} {
		t.Run(arch, func(t *testing.T) {
			bin, err := Binary(arch)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := Binary(arch)
			if !bytes.Equal(bin, again) {
				t.Error("Binary is not deterministic")
			}
			f, err := elf.NewFile(bytes.NewReader(bin))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if f.Machine != machine || f.Class != elf.ELFCLASS64 || f.Type != elf.ET_EXEC {
				t.Errorf("machine %v class %v type %v", f.Machine, f.Class, f.Type)
			}
			var inLoad bool
			for _, p := range f.Progs {
				if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 &&
					f.Entry >= p.Vaddr && f.Entry < p.Vaddr+p.Filesz {
					inLoad = true
					if p.Off+p.Filesz != uint64(len(bin)) {
						t.Errorf("segment ends at %d, file is %d bytes", p.Off+p.Filesz, len(bin))
					}
				}
			}
			if !inLoad {
				t.Errorf("entry %#x is in no executable PT_LOAD segment", f.Entry)
			}
			if !bytes.HasSuffix(bin, []byte(Message)) {
				t.Error("binary does not end with Message")
			}
		})
	}
}

func TestBinaryUnsupported(t *testing.T) {
	if _, err := Binary("riscv64"); err == nil {
		t.Error("Binary(riscv64) succeeded, want an error")
	}
}

func TestCodeLengths(t *testing.T) {
	if n := len(amd64Code(0, 0)); n != amd64CodeLen {
		t.Errorf("amd64 code is %d bytes, amd64CodeLen says %d", n, amd64CodeLen)
	}
	if n := len(arm64Code(0, 0)); n != arm64CodeLen {
		t.Errorf("arm64 code is %d bytes, arm64CodeLen says %d", n, arm64CodeLen)
	}
	if len(Message) > 0xffff {
		t.Error("Message is too long for arm64's 16-bit mov immediate")
	}
}
