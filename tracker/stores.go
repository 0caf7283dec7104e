package tracker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/flock"
	"github.com/credscan/credscan/vaultsync/kv"
)

// checkApp refuses app names that cannot be a path segment.
func checkApp(app string) error {
	if app == "" || strings.ContainsAny(app, "/\\\x00") || app == "." || app == ".." {
		return credscan.Errorf(credscan.CodeInvalid, "app name %q cannot name a tracker entry", app)
	}
	return nil
}

// MaxVersions is how many versions of an app's entry Vault keeps (KV v2
// keeps 10 by default); the full history is in the state itself.
const MaxVersions = 100

// KVStore keeps each app's state at <prefix>credscan/apps/<app> of a KV
// v2 mount, written with check-and-set.
type KVStore struct {
	kv     kv.KV
	prefix string
}

var _ Store = (*KVStore)(nil)

// NewKVStore returns the store over k, under prefix ("" for none).
func NewKVStore(k kv.KV, prefix string) *KVStore {
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	return &KVStore{kv: k, prefix: prefix}
}

func (s *KVStore) dir() string { return s.prefix + "credscan/apps" }

// Path is where app's state is.
func (s *KVStore) Path(app string) string { return s.dir() + "/" + app }

// Where implements Store.
func (s *KVStore) Where() string {
	if v, ok := s.kv.(*kv.Vault); ok {
		return fmt.Sprintf("Vault %s, %s/%s/", v.Client().Address(), v.Mount(), s.dir())
	}
	return s.dir() + "/"
}

// Load implements Store.
func (s *KVStore) Load(ctx context.Context, app string) (*AppState, int, error) {
	if err := checkApp(app); err != nil {
		return nil, 0, err
	}
	sec, err := s.kv.Get(ctx, s.Path(app))
	if credscan.CodeOf(err) == credscan.CodeNotFound {
		return &AppState{App: app}, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	b, _ := json.Marshal(sec.Data)
	var st AppState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, 0, credscan.Errorf(credscan.CodeIntegrity, "tracker entry of %s is malformed: %v", app, err)
	}
	return &st, sec.Version, nil
}

// Save implements Store.
func (s *KVStore) Save(ctx context.Context, app string, st *AppState, version int) (int, error) {
	if err := checkApp(app); err != nil {
		return 0, err
	}
	b, err := json.Marshal(st)
	if err != nil {
		return 0, err
	}
	var data map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		return 0, err
	}
	v, err := s.kv.Put(ctx, s.Path(app), data, version)
	if err != nil {
		return 0, err
	}
	if version == 0 {
		// Vault keeps 10 versions unless told: the history is in the
		// data, but the versions are kept for a while too. The entry is
		// written already: a failure here (no patch capability, Vault
		// gone) must not report the action as lost, so it is best effort
		// and the next first save of another app tries again.
		_ = s.kv.PatchMetadata(ctx, s.Path(app), kv.MetadataPatch{MaxVersions: MaxVersions, Custom: map[string]string{"app": app, "written_by": "credscan tracker"}})
	}
	return v, nil
}

// Apps implements Store.
func (s *KVStore) Apps(ctx context.Context) ([]string, error) {
	names, err := s.kv.List(ctx, s.dir())
	if err != nil {
		return nil, err
	}
	out := names[:0]
	for _, n := range names {
		if !strings.HasSuffix(n, "/") {
			out = append(out, n)
		}
	}
	return out, nil
}

// FileStore keeps every app's state in one JSON file: writes take a lock
// (so two processes cannot interleave), check the app's version and
// replace the file by an atomic rename, so readers never see half of it.
type FileStore struct {
	path string
}

var _ Store = (*FileStore)(nil)

// NewFileStore returns the store in the file at path (created on the
// first save, with its directory).
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

// Where implements Store.
func (s *FileStore) Where() string { return s.path }

type fileEntry struct {
	Version int       `json:"version"`
	State   *AppState `json:"state"`
}

type fileDoc struct {
	Format int                   `json:"format"`
	Apps   map[string]*fileEntry `json:"apps"`
}

func (s *FileStore) read() (*fileDoc, error) {
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &fileDoc{Format: 1, Apps: map[string]*fileEntry{}}, nil
	}
	if err != nil {
		return nil, credscan.E(credscan.CodeUnavailable, "reading the tracker file", err)
	}
	var d fileDoc
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		return nil, credscan.Errorf(credscan.CodeIntegrity, "tracker file %s is malformed: %v", s.path, err)
	}
	if d.Apps == nil {
		d.Apps = map[string]*fileEntry{}
	}
	return &d, nil
}

// Load implements Store.
func (s *FileStore) Load(ctx context.Context, app string) (*AppState, int, error) {
	if err := checkApp(app); err != nil {
		return nil, 0, err
	}
	if err := ctx.Err(); err != nil {
		return nil, 0, credscan.E(credscan.CodeCanceled, "tracker", err)
	}
	d, err := s.read()
	if err != nil {
		return nil, 0, err
	}
	e := d.Apps[app]
	if e == nil || e.State == nil {
		return &AppState{App: app}, 0, nil
	}
	return e.State, e.Version, nil
}

// Save implements Store.
func (s *FileStore) Save(ctx context.Context, app string, st *AppState, version int) (int, error) {
	vs, err := s.SaveMany(ctx, map[string]*AppState{app: st}, map[string]int{app: version})
	if err != nil {
		return 0, err
	}
	return vs[app], nil
}

var _ ManyStore = (*FileStore)(nil)

// LoadMany implements ManyStore: the file is read once.
func (s *FileStore) LoadMany(ctx context.Context, apps []string) (map[string]*AppState, map[string]int, error) {
	for _, app := range apps {
		if err := checkApp(app); err != nil {
			return nil, nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, credscan.E(credscan.CodeCanceled, "tracker", err)
	}
	d, err := s.read()
	if err != nil {
		return nil, nil, err
	}
	states, versions := map[string]*AppState{}, map[string]int{}
	for _, app := range apps {
		e := d.Apps[app]
		if e == nil || e.State == nil {
			states[app], versions[app] = &AppState{App: app}, 0
			continue
		}
		states[app], versions[app] = e.State, e.Version
	}
	return states, versions, nil
}

// SaveMany implements ManyStore: under the file's lock, the file is read
// once, every version checked, and the file written once.
func (s *FileStore) SaveMany(ctx context.Context, states map[string]*AppState, versions map[string]int) (map[string]int, error) {
	for app := range states {
		if err := checkApp(app); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, credscan.E(credscan.CodeCanceled, "tracker", err)
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return nil, credscan.E(credscan.CodeUnavailable, "tracker file", err)
	}
	lf, err := os.OpenFile(s.path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, credscan.E(credscan.CodeUnavailable, "tracker file lock", err)
	}
	defer lf.Close()
	if err := flock.Lock(lf); err != nil {
		return nil, credscan.E(credscan.CodeUnavailable, "tracker file lock", err)
	}
	defer flock.Unlock(lf)
	d, err := s.read()
	if err != nil {
		return nil, err
	}
	apps := make([]string, 0, len(states))
	for app := range states {
		apps = append(apps, app)
	}
	sort.Strings(apps)
	out := map[string]int{}
	for _, app := range apps {
		cur := 0
		if e := d.Apps[app]; e != nil {
			cur = e.Version
		}
		if cur != versions[app] {
			return nil, credscan.Errorf(credscan.CodeConflict, "%s: version %d was read, version %d is current (someone else wrote first)", app, versions[app], cur)
		}
		out[app] = cur + 1
	}
	for _, app := range apps {
		d.Apps[app] = &fileEntry{Version: out[app], State: states[app]}
	}
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".tracker-*.json")
	if err != nil {
		return nil, credscan.E(credscan.CodeUnavailable, "tracker file", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return nil, credscan.E(credscan.CodeUnavailable, "tracker file", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, credscan.E(credscan.CodeUnavailable, "tracker file", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, credscan.E(credscan.CodeUnavailable, "tracker file", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return nil, credscan.E(credscan.CodeUnavailable, "tracker file", err)
	}
	return out, nil
}

// Apps implements Store.
func (s *FileStore) Apps(ctx context.Context) ([]string, error) {
	d, err := s.read()
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(d.Apps))
	for a := range d.Apps {
		out = append(out, a)
	}
	sort.Strings(out)
	return out, nil
}
