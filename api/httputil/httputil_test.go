package httputil

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestTerminalSize(t *testing.T) {
	for _, tc := range []struct {
		query      string
		h, w       uint16
		wantErrMsg string
	}{
		{"h=24&w=80", 24, 80, ""},
		{"h=0&w=0", 0, 0, ""},
		{"h=foo&w=80", 0, 0, `invalid resize height "foo": invalid syntax`},
		{"h=24&w=-1", 0, 0, `invalid resize width "-1": value out of range`},
		{"h=24", 0, 0, `invalid resize width "": invalid syntax`},
		{"h=%2B5&w=1", 0, 0, `invalid resize height "+5": invalid syntax`},
	} {
		r := httptest.NewRequest("POST", "/containers/x/resize?"+tc.query, nil)
		h, w, err := TerminalSize(r)
		if tc.wantErrMsg != "" {
			if err == nil || !strings.HasPrefix(err.Error(), tc.wantErrMsg) || !errors.Is(err, errdefs.ErrInvalidArgument) {
				t.Errorf("%s: err %v, want %q (invalid argument)", tc.query, err, tc.wantErrMsg)
			}
			continue
		}
		if err != nil || h != tc.h || w != tc.w {
			t.Errorf("%s: %d %d %v", tc.query, h, w, err)
		}
	}
}
