package format

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
	"text/template"
)

const (
	tableKey = "table"
	jsonKey  = "json"
)

// Format is a --format value: "table", "table TEMPLATE", "json" or a Go template.
type Format string

// IsTable reports whether the output is a table with headers.
func (f Format) IsTable() bool { return strings.HasPrefix(string(f), tableKey) }

// IsJSON reports whether each row is printed as one JSON object.
func (f Format) IsJSON() bool { return string(f) == jsonKey }

// Row is one formattable object; FullHeader is not required since the
// header map is passed separately.
type Row any

// Writer renders rows with a format, as docker's formatter.Context does.
type Writer struct {
	Out    io.Writer
	Format Format
	// DefaultTable is used for "" and bare "table".
	DefaultTable string
	// Header maps each field name to its column title.
	Header map[string]string
}

func (w Writer) template() string {
	f := string(w.Format)
	switch {
	case f == "" || f == tableKey:
		f = w.DefaultTable
	case f == jsonKey:
		f = "{{json .}}"
	}
	if Format(f).IsTable() {
		f = f[len(tableKey):]
	}
	f = strings.Trim(f, " ")
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(f)
}

func (w Writer) isTable() bool {
	f := string(w.Format)
	if f == "" || f == tableKey {
		return Format(w.DefaultTable).IsTable()
	}
	return Format(f).IsTable()
}

// Write executes the template for each row and, for tables, prints the header
// and aligns the columns with a tabwriter.
func (w Writer) Write(rows []Row) error {
	text := w.template()
	tmpl, err := Parse(text)
	if err != nil {
		return fmt.Errorf("template parsing error: %w", err)
	}
	buf := &bytes.Buffer{}
	for _, r := range rows {
		if err := tmpl.Execute(buf, r); err != nil {
			return fmt.Errorf("template: %w", err)
		}
		buf.WriteString("\n")
	}
	if !w.isTable() {
		_, err := buf.WriteTo(w.Out)
		return err
	}
	t := tabwriter.NewWriter(w.Out, 10, 1, 3, ' ', 0)
	htmpl, err := template.New("").Funcs(headerFuncs).Parse(text)
	if err != nil {
		return fmt.Errorf("template parsing error: %w", err)
	}
	hbuf := &bytes.Buffer{}
	if err := htmpl.Execute(hbuf, w.Header); err != nil {
		return fmt.Errorf("template: %w", err)
	}
	_, _ = hbuf.WriteTo(t)
	_, _ = t.Write([]byte("\n"))
	_, _ = buf.WriteTo(t)
	return t.Flush()
}

// headerFuncs make functions inert when rendering the table header.
var headerFuncs = template.FuncMap{
	"json":     func(v any) string { return fmt.Sprint(v) },
	"split":    func(v any, _ string) string { return fmt.Sprint(v) },
	"join":     func(v any, _ string) string { return fmt.Sprint(v) },
	"title":    func(v any) string { return fmt.Sprint(v) },
	"lower":    func(v any) string { return fmt.Sprint(v) },
	"upper":    func(v any) string { return fmt.Sprint(v) },
	"pad":      func(v any, _, _ int) string { return fmt.Sprint(v) },
	"truncate": func(v any, _ int) string { return fmt.Sprint(v) },
}

// marshalMethods encodes v as a JSON object of its exported string-returning
// methods without arguments, which is how docker prints `--format json`.
func marshalMethods(v any) ([]byte, error) {
	m := map[string]any{}
	val := reflect.ValueOf(v)
	typ := val.Type()
	for i := 0; i < typ.NumMethod(); i++ {
		meth := typ.Method(i)
		if meth.Type.NumIn() != 1 || meth.Type.NumOut() != 1 || meth.Name == "MarshalJSON" {
			continue
		}
		if meth.Type.Out(0).Kind() != reflect.String {
			continue
		}
		m[meth.Name] = val.Method(i).Call(nil)[0].Interface()
	}
	return json.Marshal(m)
}
