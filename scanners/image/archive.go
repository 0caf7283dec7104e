package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/credscan/credscan/internal/regular"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// image is what a scan reads of an image: its config and its layers. A
// v1.Image is one; so is a docker-archive read member by member.
type image interface {
	ConfigFile() (*v1.ConfigFile, error)
	Layers() ([]v1.Layer, error)
}

// dockerArchive is an image of a `docker save` archive, read without
// needing every layer: a layer file the archive lacks is a layer whose
// reading fails naming it, and the config and the other layers are
// scanned. (go-containerregistry's tarball image digests every layer
// first, so one missing file lost the whole image.)
type dockerArchive struct {
	file    string
	members map[string]tarMember
	config  *v1.ConfigFile
	cfgHash v1.Hash
	layers  []string // member names, in order
}

type tarMember struct{ off, size int64 }

// countingReader counts what was read through it: after tar.Reader.Next
// returns, the count is where the member's data starts.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// openDockerArchive indexes the archive's members and reads its
// manifest.json (the first image it lists) and config.
func openDockerArchive(file string) (*dockerArchive, error) {
	fh, err := regular.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	cr := &countingReader{r: fh}
	tr := tar.NewReader(cr)
	a := &dockerArchive{file: file, members: map[string]tarMember{}}
	var manifest []byte
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading the archive: %w", err)
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != 0 { // 0: a regular file in old archives
			continue
		}
		name := path.Clean(h.Name)
		a.members[name] = tarMember{off: cr.n, size: h.Size}
		if name == "manifest.json" {
			if manifest, err = io.ReadAll(io.LimitReader(tr, 16<<20)); err != nil {
				return nil, fmt.Errorf("reading manifest.json: %w", err)
			}
		}
	}
	if manifest == nil {
		return nil, errors.New("not a docker-archive: no manifest.json")
	}
	var entries []struct {
		Config string
		Layers []string
	}
	if err := json.Unmarshal(manifest, &entries); err != nil || len(entries) == 0 {
		return nil, errors.New("not a docker-archive: manifest.json lists no image")
	}
	e := entries[0]
	raw, err := a.read(e.Config, 64<<20)
	if err != nil {
		return nil, fmt.Errorf("reading the config %s: %w", e.Config, err)
	}
	if a.config, err = v1.ParseConfigFile(bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("parsing the config %s: %w", e.Config, err)
	}
	if a.cfgHash, _, err = v1.SHA256(bytes.NewReader(raw)); err != nil {
		return nil, err
	}
	for _, l := range e.Layers {
		a.layers = append(a.layers, path.Clean(l))
	}
	return a, nil
}

// read returns a member's content, at most limit bytes.
func (a *dockerArchive) read(name string, limit int64) ([]byte, error) {
	rc, err := a.open(path.Clean(name))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(io.LimitReader(rc, limit))
}

// open opens a member of the archive.
func (a *dockerArchive) open(name string) (io.ReadCloser, error) {
	m, ok := a.members[name]
	if !ok {
		return nil, fmt.Errorf("file %s is not in the archive", name)
	}
	fh, err := os.Open(a.file)
	if err != nil {
		return nil, err
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(fh, m.off, m.size), fh}, nil
}

func (a *dockerArchive) ConfigFile() (*v1.ConfigFile, error) { return a.config, nil }

// Digest is the image ID: the config's digest (a docker-archive holds no
// registry manifest).
func (a *dockerArchive) Digest() (v1.Hash, error) { return a.cfgHash, nil }

// Layers returns the image's layers; one whose file is missing fails when
// it is read, naming the file.
func (a *dockerArchive) Layers() ([]v1.Layer, error) {
	out := make([]v1.Layer, 0, len(a.layers))
	for i, name := range a.layers {
		if _, ok := a.members[name]; !ok {
			out = append(out, &missingLayer{name: name, digest: a.layerDigest(i, name)})
			continue
		}
		l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return a.open(name) })
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", name, err)
		}
		out = append(out, l)
	}
	return out, nil
}

// layerDigest names a missing layer: by the digest its file name spells
// (<hex>.tar.gz, blobs/sha256/<hex>), else by the config's diff ID.
func (a *dockerArchive) layerDigest(i int, name string) v1.Hash {
	base := path.Base(name)
	if base == "layer.tar" {
		base = path.Base(path.Dir(name))
	}
	hex := strings.SplitN(base, ".", 2)[0]
	if h, err := v1.NewHash("sha256:" + hex); err == nil {
		return h
	}
	if i < len(a.config.RootFS.DiffIDs) {
		return a.config.RootFS.DiffIDs[i]
	}
	return v1.Hash{Algorithm: "missing", Hex: strings.ReplaceAll(name, "/", "_")}
}

// missingLayer is a layer listed by an archive's manifest whose file is
// not there: every read fails, naming the file.
type missingLayer struct {
	name   string
	digest v1.Hash
}

func (m *missingLayer) err() error {
	return fmt.Errorf("layer %s: file %s is missing from the archive (the other layers and the config were scanned)", m.digest, m.name)
}
func (m *missingLayer) Digest() (v1.Hash, error)           { return m.digest, nil }
func (m *missingLayer) DiffID() (v1.Hash, error)           { return m.digest, nil }
func (m *missingLayer) Compressed() (io.ReadCloser, error) { return nil, m.err() }
func (m *missingLayer) Uncompressed() (io.ReadCloser, error) {
	return nil, m.err()
}
func (m *missingLayer) Size() (int64, error)                { return 0, m.err() }
func (m *missingLayer) MediaType() (types.MediaType, error) { return types.DockerLayer, nil }

var _ v1.Layer = (*missingLayer)(nil)
