package git

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/credscan/credscan/internal/leakcheck"
)

// A git server's answer is never quoted in the clone error (its body may
// echo the request's headers, the token among them): the error names the
// status and the URL without its user information.
func TestCloneErrorQuotesNoBody(t *testing.T) {
	token := leakcheck.Secret(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.Trim(strings.SplitN(r.URL.Path, "/", 3)[1], "/"))
		w.WriteHeader(code)
		fmt.Fprintf(w, "BODYMARKER you sent %v \x1b]0;owned\x07", r.Header)
	}))
	defer srv.Close()
	t.Setenv("CREDSCAN_GIT_TOKEN", token)
	for _, code := range []int{401, 403, 404, 500, 502} {
		u := strings.Replace(srv.URL, "http://", "http://alice:"+token+"@", 1) + "/" + strconv.Itoa(code) + "/team/app.git"
		_, err := Open(context.Background(), u, Options{})
		if err == nil {
			t.Fatalf("%d: no error", code)
		}
		msg := err.Error()
		if strings.Contains(msg, "BODYMARKER") || strings.Contains(msg, "alice") || strings.Contains(msg, "\x1b") || !strings.Contains(msg, strconv.Itoa(code)) {
			t.Errorf("%d: %q", code, strings.ReplaceAll(msg, token, "<token>"))
		}
		leakcheck.AssertNone(t, fmt.Sprintf("%d: error", code), []byte(msg), token)
	}
}
