package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// InspectFunc fetches one object: its typed value and its raw JSON.
type InspectFunc func(ref string) (typed any, raw []byte, err error)

// InspectError lists the references that failed, one message per line.
type InspectError struct{ Messages []string }

func (e *InspectError) Error() string { return strings.Join(e.Messages, "\n") }

// Inspect prints the objects as an indented JSON array, or each through the
// template. Objects found are printed even when others fail; the failures
// come back as an *InspectError.
func Inspect(out io.Writer, refs []string, tmplText string, get InspectFunc) error {
	var errs []string
	if tmplText == "" || tmplText == jsonKey {
		var raws []json.RawMessage
		for _, ref := range refs {
			_, raw, err := get(ref)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			raws = append(raws, raw)
		}
		if len(raws) == 0 {
			_, _ = io.WriteString(out, "[]\n")
		} else {
			b, err := json.MarshalIndent(raws, "", "    ")
			if err != nil {
				return err
			}
			_, _ = out.Write(append(b, '\n'))
		}
	} else {
		tmpl, err := Parse(strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(tmplText))
		if err != nil {
			return fmt.Errorf("template parsing error: %w", err)
		}
		for _, ref := range refs {
			typed, raw, err := get(ref)
			if err != nil {
				errs = append(errs, err.Error())
				continue
			}
			buf := &bytes.Buffer{}
			if err := tmpl.Execute(buf, typed); err != nil {
				// Fields missing from the typed value may exist in the raw JSON.
				// numbers stay as written (docker's UseNumber): 67108864, not 6.7108864e+07
				var generic any
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.UseNumber()
				if jerr := dec.Decode(&generic); jerr != nil {
					return fmt.Errorf("template: %w", err)
				}
				buf.Reset()
				if err := tmpl.Execute(buf, generic); err != nil {
					return fmt.Errorf("template: %w", err)
				}
			}
			buf.WriteString("\n")
			_, _ = buf.WriteTo(out)
		}
	}
	if len(errs) > 0 {
		return &InspectError{Messages: errs}
	}
	return nil
}
