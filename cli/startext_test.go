package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestAskToStart(t *testing.T) {
	asked, answer := AskToStart(context.Background())
	for _, tc := range []struct {
		name, method, target string
		ctx                  context.Context
		header               http.Header
		wantQuery            string
		want                 StartAnswer
	}{
		{"started", "POST", "/v1.50/containers/create?name=x", asked, http.Header{"Berth-Started": {"1"}}, "berth-start=1&name=x", StartAnswer{Started: true}},
		{"start failed", "POST", "/v1.50/containers/create", asked, http.Header{"Berth-Container": {"abc"}}, "berth-start=1", StartAnswer{Container: "abc"}},
		{"a docker daemon", "POST", "/containers/create", asked, http.Header{}, "berth-start=1", StartAnswer{}},
		{"not asked", "POST", "/v1.50/containers/create", context.Background(), http.Header{"Berth-Started": {"1"}}, "", StartAnswer{}},
		{"another request", "POST", "/v1.50/containers/x/start", asked, http.Header{"Berth-Started": {"1"}}, "", StartAnswer{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			*answer = StartAnswer{}
			req := httptest.NewRequest(tc.method, tc.target, nil).WithContext(tc.ctx)
			if err := askToStart(req); err != nil {
				t.Fatal(err)
			}
			if req.URL.RawQuery != tc.wantQuery && tc.wantQuery != "" || tc.wantQuery == "" && req.URL.Query().Has("berth-start") {
				t.Fatalf("query %q, want %q", req.URL.RawQuery, tc.wantQuery)
			}
			readStartAnswer(&http.Response{Request: req, Header: tc.header})
			if *answer != tc.want {
				t.Fatalf("answer %+v, want %+v", *answer, tc.want)
			}
		})
	}
}
