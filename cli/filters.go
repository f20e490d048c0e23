package cli

import (
	"fmt"
	"strings"

	"github.com/moby/moby/client"
)

// FilterOpt is the repeatable --filter key=value flag, sent as API filters.
type FilterOpt struct{ args client.Filters }

// NewFilterOpt returns an empty filter flag value.
func NewFilterOpt() *FilterOpt { return &FilterOpt{args: client.Filters{}} }

func (f *FilterOpt) String() string {
	var s []string
	for k, vs := range f.args {
		for v := range vs {
			s = append(s, k+"="+v)
		}
	}
	return strings.Join(s, " ")
}

// Set adds one key=value filter.
func (f *FilterOpt) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("bad format of filter (expected name=value)")
	}
	f.args.Add(strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(val))
	return nil
}

// Type names the flag type in help.
func (f *FilterOpt) Type() string { return "filter" }

// Value returns the filters for the API.
func (f *FilterOpt) Value() client.Filters { return f.args }

// FormatHelp is docker's --format help text for list commands.
const FormatHelp = `Format output using a custom template:
'table':            Print output in table format with column headers (default)
'table TEMPLATE':   Print output in table format using the given Go template
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`

// InspectFormatHelp is docker's --format help text for inspect commands.
const InspectFormatHelp = `Format output using a custom template:
'json':             Print in JSON format
'TEMPLATE':         Print output using the given Go template.
Refer to https://docs.docker.com/go/formatting/ for more information about formatting output with templates`
