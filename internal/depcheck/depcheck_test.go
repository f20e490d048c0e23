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
// (docs/architecture.md: one-way imports).
var forbidden = map[string][]string{
	"cli/":       {"api/", "daemon/", "service/", "store/", "runtime/", "network/", "registry/"},
	"cmd/berth/": {"api/", "daemon/", "service/", "store/", "runtime/"},
	"service/":   {"api/", "daemon/", "cli/", "cmd/"},
	"store/":     {"api/", "daemon/", "cli/", "cmd/", "service/"},
	"runtime/":   {"api/", "daemon/", "cli/", "cmd/", "service/", "store/"},
	"internal/":  {"api/", "daemon/", "cli/", "cmd/", "service/"},
	"api/":       {"daemon/", "cli/", "cmd/", "store/", "runtime/"},
	"daemon/":    {"cli/", "cmd/"},
	"core/":      {"api/", "daemon/", "cli/", "cmd/", "service/", "store/", "runtime/", "internal/"},
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
			for from, bans := range forbidden {
				if !strings.HasPrefix(rel, from) {
					continue
				}
				for _, ban := range bans {
					if strings.HasPrefix(target, ban) {
						t.Errorf("%s imports %s: %s must not depend on %s", rel, p, from, ban)
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
