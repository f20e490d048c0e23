package format

import (
	"bytes"
	"encoding/json"
	"strings"
	"text/template"
	"unicode"
	"unicode/utf8"
)

// funcs are the template functions docker's --format provides.
var funcs = template.FuncMap{
	"json": func(v any) string {
		buf := &bytes.Buffer{}
		enc := json.NewEncoder(buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(v)
		return strings.TrimSpace(buf.String())
	},
	"split":    strings.Split,
	"join":     strings.Join,
	"title":    titleCase,
	"lower":    strings.ToLower,
	"upper":    strings.ToUpper,
	"pad":      padWithSpace,
	"truncate": truncateWithLength,
}

// titleCase upper-cases the first letter of each word, as strings.Title does.
func titleCase(s string) string {
	prev := ' '
	return strings.Map(func(r rune) rune {
		sep := !unicode.IsLetter(prev) && !unicode.IsDigit(prev) && prev != '_'
		prev = r
		if sep {
			return unicode.ToTitle(r)
		}
		return r
	}, s)
}

func padWithSpace(source string, prefix, suffix int) string {
	if source == "" {
		return source
	}
	return strings.Repeat(" ", prefix) + source + strings.Repeat(" ", suffix)
}

func truncateWithLength(source string, length int) string {
	if utf8.RuneCountInString(source) <= length {
		return source
	}
	return string([]rune(source)[:length])
}

// Parse compiles a --format template with docker's functions.
func Parse(format string) (*template.Template, error) {
	return template.New("").Funcs(funcs).Parse(format)
}
