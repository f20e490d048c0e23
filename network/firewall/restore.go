package firewall

import (
	"bytes"
	"fmt"
	"strings"
)

// restoreDelete deletes rules in one iptables-restore --noflush process
// per call (one transaction): each iptables run reads and writes the whole
// ruleset, 4–35 ms apiece here, and a network's rules were a dozen runs.
// It fails, changing nothing, if any of them is not there; the caller then
// deletes one by one.
func (f *Firewall) restoreDelete(rs []rule) error {
	if len(rs) == 0 {
		return nil
	}
	var in bytes.Buffer
	byTable := map[string][]rule{}
	var tables []string
	for _, r := range rs {
		if _, ok := byTable[r.table]; !ok {
			tables = append(tables, r.table)
		}
		byTable[r.table] = append(byTable[r.table], r)
	}
	for _, t := range tables {
		fmt.Fprintf(&in, "*%s\n", t)
		for _, r := range byTable[t] {
			in.WriteString("-D " + r.chain)
			for _, a := range r.spec {
				in.WriteString(" " + quoteRestoreArg(a))
			}
			in.WriteString("\n")
		}
		in.WriteString("COMMIT\n")
	}
	return f.restore(&in)
}

// quoteRestoreArg quotes an argument for iptables-restore's line syntax.
func quoteRestoreArg(a string) string {
	if a != "" && !strings.ContainsAny(a, " \t\"'") {
		return a
	}
	return `"` + strings.ReplaceAll(a, `"`, `\"`) + `"`
}
