//go:build linux

package vaultsync

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/testenv"
)

// A Vault that cannot be reached is said to be so (CodeUnavailable, after
// retries), apart from a token that may not list audit devices
// (CodeUnauthorized): both were "the token needs read and sudo on
// sys/audit", with the usage exit code.
func TestAuditCheckTellsOutageFromRefusal(t *testing.T) {
	v := testenv.StartVault(t)
	v.EnableFileAudit("file")
	ctx := context.Background()
	// refused: a token without sudo on sys/audit
	v.Policy("reader", `path "secret/*" { capabilities = ["read"] }`)
	_, err := CheckAuditDevices(ctx, v.Client(v.Token("reader-dan", "reader")))
	var e *credscan.Error
	if !errors.As(err, &e) || e.Code != credscan.CodeUnauthorized || !strings.Contains(err.Error(), "permission denied") || !strings.Contains(err.Error(), "sudo on sys/audit") {
		t.Errorf("no sudo: %v (code %v)", err, credscan.CodeOf(err))
	}
	// allowed
	if chk, err := CheckAuditDevices(ctx, v.Client(v.RootToken)); err != nil || !chk.OK {
		t.Errorf("root: %v %+v", err, chk)
	}
	// unreachable: nothing listens there any more
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + l.Addr().String()
	l.Close()
	c := v.Client(v.RootToken)
	if err := c.SetAddress(addr); err != nil {
		t.Fatal(err)
	}
	_, err = CheckAuditDevices(ctx, c)
	if credscan.CodeOf(err) != credscan.CodeUnavailable || !strings.Contains(err.Error(), "cannot reach Vault at "+addr) || strings.Contains(err.Error(), "sudo") {
		t.Errorf("unreachable: %v (code %v)", err, credscan.CodeOf(err))
	}
}
