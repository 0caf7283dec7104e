package vaultsync

import (
	"context"
	"fmt"
	"sort"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/credscan/credscan/vaultsync/kv"
)

// Device is an enabled Vault audit device.
type Device struct {
	Path string `json:"path"`
	Type string `json:"type"`
}

// DeviceCheck is what `vault audit check` found.
type DeviceCheck struct {
	Devices  []Device `json:"devices"`
	Warnings []string `json:"warnings,omitempty"`
	// OK is false when no device is enabled: Vault would not log access.
	OK bool `json:"ok"`
}

// CheckAuditDevices lists the enabled audit devices (sys/audit: the token
// needs read and sudo on it) and judges them: none is a failure; a single
// device is a warning (when it fails, Vault refuses requests); a socket
// device is a warning (a slow or dead listener blocks Vault).
//
// A Vault that cannot be reached, is sealed or overloaded is asked again
// (three attempts, half a second then a second apart); the error then
// says which it was (credscan.CodeUnavailable) apart from a refusal
// (credscan.CodeUnauthorized).
func CheckAuditDevices(ctx context.Context, c *vault.Client) (DeviceCheck, error) {
	var m map[string]*vault.Audit
	var err error
	wait := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		m, err = c.Sys().ListAuditWithContext(ctx)
		if err == nil || !kv.Retryable(err) || attempt == 3 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait *= 2
	}
	if err != nil {
		return DeviceCheck{}, kv.VaultError("listing Vault audit devices", err, "the token needs read and sudo on sys/audit")
	}
	var chk DeviceCheck
	for path, a := range m {
		chk.Devices = append(chk.Devices, Device{Path: path, Type: a.Type})
	}
	sort.Slice(chk.Devices, func(i, j int) bool { return chk.Devices[i].Path < chk.Devices[j].Path })
	switch len(chk.Devices) {
	case 0:
		chk.Warnings = append(chk.Warnings, "no audit device is enabled: Vault does not log who reads or writes secrets")
	case 1:
		chk.Warnings = append(chk.Warnings, "only one audit device is enabled: if it cannot write, Vault refuses every request; enable a second one")
	}
	for _, d := range chk.Devices {
		if d.Type == "socket" {
			chk.Warnings = append(chk.Warnings, fmt.Sprintf("audit device %s is a socket: a slow or unreachable listener blocks Vault", d.Path))
		}
	}
	chk.OK = len(chk.Devices) > 0
	return chk, nil
}
