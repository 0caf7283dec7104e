package audit

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
)

// Recorder records actions in a log under one actor, resolved once when
// the recorder is made: every command records through one. It is safe for
// concurrent use (the log is locked per line).
type Recorder struct {
	log   *Log
	actor Actor
}

// NewRecorder returns a recorder that appends to log as actor.
func NewRecorder(log *Log, actor Actor) *Recorder { return &Recorder{log: log, actor: actor} }

// Actor is who the recorder records as.
func (r *Recorder) Actor() Actor { return r.actor }

// Path is the log's file.
func (r *Recorder) Path() string { return r.log.Path }

// Record appends rec as the recorder's actor and returns it as written.
// A record that cannot be written is an error: the trail must not have
// holes.
func (r *Recorder) Record(ctx context.Context, rec Record) (Record, error) {
	rec.Actor = r.actor
	return r.log.Append(ctx, rec)
}

// LocalActor is the OS user and the host: who acts when no Vault identity
// is known, and, beside one, where it acted from.
func LocalActor() Actor {
	a := Actor{OSUser: os.Getenv("USER")}
	if a.OSUser == "" {
		if u, err := user.Current(); err == nil {
			a.OSUser = u.Username
		}
	}
	a.Host, _ = os.Hostname()
	return a
}

// DefaultPath is where credscan's audit log is: flag when set, else the
// manifest's audit file (manifestFile), else $CREDSCAN_AUDIT_LOG, else
// audit.jsonl under the user's state directory.
func DefaultPath(flag, manifestFile string) string {
	switch {
	case flag != "":
		return flag
	case manifestFile != "":
		return manifestFile
	case os.Getenv("CREDSCAN_AUDIT_LOG") != "":
		return os.Getenv("CREDSCAN_AUDIT_LOG")
	}
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "credscan", "audit.jsonl")
}
