package credscan

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// FingerprintKeyEnv names the environment variable holding the estate's
// fingerprint key.
const FingerprintKeyEnv = "CREDSCAN_FINGERPRINT_KEY"

// Fingerprinter computes keyed fingerprints of secrets: the same secret
// anywhere gets the same ID, and without the key an ID does not let anyone
// test guesses of a short password. It is safe for concurrent use.
type Fingerprinter struct{ key []byte }

// NewFingerprinter returns a Fingerprinter for key (at least 16 bytes).
func NewFingerprinter(key []byte) (*Fingerprinter, error) {
	if len(key) < 16 {
		return nil, errors.New("fingerprint key shorter than 16 bytes")
	}
	return &Fingerprinter{key: append([]byte(nil), key...)}, nil
}

// Of returns hex(HMAC-SHA256(key, normalized secret)). Normalization trims
// surrounding white space only: passwords are case- and byte-sensitive.
func (f *Fingerprinter) Of(secret string) string {
	m := hmac.New(sha256.New, f.key)
	m.Write([]byte(strings.TrimSpace(secret)))
	return hex.EncodeToString(m.Sum(nil))
}

// LoadFingerprintKey returns the key from $CREDSCAN_FINGERPRINT_KEY, or
// from keyFile, creating keyFile with 32 random bytes and mode 0600 when it
// does not exist. created reports whether a new key was written.
func LoadFingerprintKey(keyFile string) (key []byte, created bool, err error) {
	if v := os.Getenv(FingerprintKeyEnv); v != "" {
		if len(v) < 16 {
			return nil, false, fmt.Errorf("$%s is shorter than 16 characters", FingerprintKeyEnv)
		}
		return []byte(v), false, nil
	}
	b, err := readRegular(keyFile)
	switch {
	case err == nil:
		k := []byte(strings.TrimSpace(string(b)))
		if fi, statErr := os.Stat(keyFile); statErr == nil && fi.Mode().Perm()&0o077 != 0 {
			return nil, false, fmt.Errorf("fingerprint key file %s is readable by others (mode %v): chmod 600 it", keyFile, fi.Mode().Perm())
		}
		if len(k) < 16 {
			return nil, false, fmt.Errorf("fingerprint key file %s holds fewer than 16 bytes", keyFile)
		}
		return k, false, nil
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, false, fmt.Errorf("reading fingerprint key file: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("generating fingerprint key: %w", err)
	}
	k := []byte(hex.EncodeToString(raw))
	if err := os.MkdirAll(filepath.Dir(keyFile), 0o700); err != nil {
		return nil, false, fmt.Errorf("creating fingerprint key directory: %w", err)
	}
	fh, err := os.OpenFile(keyFile, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) { // created concurrently: read it
			return LoadFingerprintKey(keyFile)
		}
		return nil, false, fmt.Errorf("creating fingerprint key file: %w", err)
	}
	defer fh.Close()
	if _, err := fh.Write(append(k, '\n')); err != nil {
		return nil, false, fmt.Errorf("writing fingerprint key file: %w", err)
	}
	return k, true, nil
}

// DefaultKeyFile is the user-level key file used when no manifest names one.
func DefaultKeyFile() string {
	dir, err := os.UserConfigDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "credscan", "fingerprint.key")
}

// readRegular reads a file that must be a regular file: a named pipe in
// its place would block the read for ever.
func readRegular(path string) ([]byte, error) {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("not a regular file")}
	}
	return os.ReadFile(path)
}
