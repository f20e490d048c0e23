package depcheck

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/berth-project/berth/"

// forbidden maps a folder prefix to the project folders it must not import
// (docs/architecture.md: one-way imports). A ban does not apply to the
// files inside the banned folder itself.
var forbidden = map[string][]string{
	"cli/": {"api/", "daemon/", "service/", "store/", "runtime/", "network/", "registry/"},
	// compose is an API client like the CLI: it knows no engine part, nor the CLI
	"compose/":   {"api/", "daemon/", "cli/", "cmd/", "service/", "store/", "runtime/", "network/", "registry/"},
	"cmd/berth/": {"api/", "daemon/", "service/", "store/", "runtime/"},
	"service/":   {"api/", "daemon/", "cli/", "cmd/"},
	"store/":     {"api/", "daemon/", "cli/", "cmd/", "service/"},
	"runtime/":   {"api/", "daemon/", "cli/", "cmd/", "service/", "store/"},
	"internal/":  {"api/", "daemon/", "cli/", "cmd/", "service/"},
	"api/":       {"daemon/", "cli/", "cmd/", "store/", "runtime/"},
	"daemon/":    {"cli/", "cmd/"},
	"core/":      {"api/", "daemon/", "cli/", "cmd/", "service/", "store/", "runtime/", "internal/"},
	// The registry client and server know only the protocol: no engine
	// part (a server runs without a daemon: `berth registry serve`).
	"registry/": {"api/", "daemon/", "cli/", "cmd/", "service/", "store/", "runtime/", "network/"},

	// The image service knows no archive format; the archive formats use it.
	"service/images/": {"service/images/archive/"},
	// Networks know nothing of the containers on them; a container's
	// side of networking (package sandbox) knows no container record.
	"service/networks/":         {"service/networks/sandbox/", "service/containers/"},
	"service/networks/sandbox/": {"service/containers/", "store/"},
	// A container's config rules are pure: no store, no host networking, no other service.
	"service/containers/runconfig/": {"store/", "network/", "service/images/", "service/networks/", "service/volumes/", "service/build/"},
	// The same for volumes and a container's mounts of them.
	"service/volumes/":        {"service/volumes/mounts/", "service/containers/"},
	"service/volumes/mounts/": {"service/containers/", "store/"},
	// What ps and inspect show is built from copies: no store, host networking or runtime.
	"service/containers/view/": {"store/", "network/", "runtime/"},
}

// forbiddenInCode is forbidden for non-test files: tests may build the
// real stores that the code reaches only through another package.
var forbiddenInCode = map[string][]string{
	// The archive formats reach blobs and layers through the image
	// service (archive.Store), which owns their leases and collection.
	"service/images/archive/": {"store/", "runtime/", "network/"},
}

func TestImportRules(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if !strings.HasPrefix(p, module) {
				continue
			}
			target := strings.TrimPrefix(p, module) + "/"
			rules := []map[string][]string{forbidden}
			if !strings.HasSuffix(rel, "_test.go") {
				rules = append(rules, forbiddenInCode)
			}
			for _, rule := range rules {
				for from, bans := range rule {
					if !strings.HasPrefix(rel, from) {
						continue
					}
					for _, ban := range bans {
						if strings.HasPrefix(target, ban) && !strings.HasPrefix(rel, ban) {
							t.Errorf("%s imports %s: %s must not depend on %s", rel, p, from, ban)
						}
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d Go files checked: is the walk rooted right?", checked)
	}
}
