// Package image is the container image source: the image config (Env,
// Cmd, Entrypoint, Labels, history) and every layer on its own, read as a
// tar stream and never extracted, with archives inside layers (jar, war,
// ear, zip, tar, tar.gz) opened to a bounded depth. Layers shared by
// several images are scanned once; their findings are attributed to every
// image that holds them, and a file a later layer deletes or replaces is
// reported as deleted but still in the image.
package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/credscan/credscan"
	"github.com/credscan/credscan/internal/regular"
	"github.com/credscan/credscan/scanners"
	"github.com/credscan/credscan/scanners/archive"
	"github.com/credscan/credscan/scanners/chunk"
)

// Tags put on image findings.
const (
	TagDeleted = "image:deleted-later" // a later layer deletes or replaces the file: still in the image
	TagConfig  = "image:config"
)

// Options configure the image source.
type Options struct {
	App      string
	Label    string // the name reports give a single reference (default: the reference)
	Platform string // "linux/amd64"; "" scans every platform of an index
	Insecure bool   // plain HTTP, for registries on loopback only
	Auth     authn.Authenticator
	Workers  int
	Logger   *slog.Logger
	// MaxDepth bounds archives inside archives; MaxArchiveBytes and
	// MaxRatio bound what one nested archive may expand to.
	MaxDepth        int
	MaxArchiveBytes int64
	MaxRatio        int64
}

// Scanner scans images. Run it through an Engine, then Attribute.
type Scanner struct {
	refs []Ref
	o    Options

	mu     sync.Mutex
	images []*imageInfo
	layers map[string]*layerInfo // digest → what it holds, scanned once
}

var (
	_ scanners.Source     = (*Scanner)(nil)
	_ scanners.Attributor = (*Scanner)(nil)
)

type imageInfo struct {
	label  string // ref@digest [platform]
	app    string
	layers []string
}

// Ref is an image reference with the name reports give it and the app
// that owns it.
type Ref struct {
	Ref, Label, App string
}

type layerInfo struct {
	files   map[string]bool // regular files
	deletes []string        // whiteouts: deleted paths
	opaque  []string        // opaque directories
	scanned bool
}

// New returns a Scanner of refs: registry references, oci:DIR,
// docker-archive:FILE or oci-archive:FILE.
func New(refs []string, o Options) (*Scanner, error) {
	var rs []Ref
	for _, r := range refs {
		label := r
		if o.Label != "" && len(refs) == 1 {
			label = o.Label
		}
		rs = append(rs, Ref{Ref: r, Label: label, App: o.App})
	}
	return NewRefs(rs, o)
}

// NewRefs returns a Scanner of the images of several apps: layers they
// share are read once.
func NewRefs(refs []Ref, o Options) (*Scanner, error) {
	if len(refs) == 0 {
		return nil, credscan.UsageError("no image to scan")
	}
	if o.Workers <= 0 {
		o.Workers = runtime.NumCPU()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxDepth == 0 {
		o.MaxDepth = archive.Default.MaxDepth
	}
	if o.MaxArchiveBytes == 0 {
		o.MaxArchiveBytes = archive.Default.MaxBytes
	}
	if o.MaxRatio == 0 {
		o.MaxRatio = archive.Default.MaxRatio
	}
	return &Scanner{refs: refs, o: o, layers: map[string]*layerInfo{}}, nil
}

type resolved struct {
	label string
	app   string
	img   image
}

// open resolves a reference to its images (one per platform).
func (s *Scanner) open(ctx context.Context, ref string) ([]resolved, func(), error) {
	done := func() {}
	switch {
	case strings.HasPrefix(ref, "oci:"):
		return s.fromLayout(strings.TrimPrefix(ref, "oci:"), ref)
	case strings.HasPrefix(ref, "oci-archive:"):
		file := strings.TrimPrefix(ref, "oci-archive:")
		tmp, err := os.MkdirTemp("", "credscan-oci-")
		if err != nil {
			return nil, done, err
		}
		if err := untar(file, tmp); err != nil {
			os.RemoveAll(tmp)
			return nil, done, fmt.Errorf("reading %s: %w", file, err)
		}
		imgs, _, err := s.fromLayout(tmp, ref)
		return imgs, func() { os.RemoveAll(tmp) }, err
	case strings.HasPrefix(ref, "docker-archive:"):
		file := strings.TrimPrefix(ref, "docker-archive:")
		img, err := openDockerArchive(file)
		if err != nil {
			return nil, done, fmt.Errorf("reading %s: %w", file, err)
		}
		return []resolved{{label: ref + digestSuffix(img), img: img}}, done, nil
	}
	var nopts []name.Option
	if s.o.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return nil, done, credscan.UsageError("image reference %q: %v", ref, err)
	}
	if s.o.Insecure && !isLoopback(r.Context().RegistryStr()) {
		return nil, done, credscan.UsageError("--insecure is for registries on loopback only, not %s", r.Context().RegistryStr())
	}
	ropts := []remote.Option{remote.WithContext(ctx)}
	if s.o.Auth != nil {
		ropts = append(ropts, remote.WithAuth(s.o.Auth))
	} else {
		ropts = append(ropts, remote.WithAuthFromKeychain(authn.DefaultKeychain))
	}
	desc, err := remote.Get(r, ropts...)
	if err != nil {
		return nil, done, fmt.Errorf("fetching %s: %w", ref, err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, done, err
		}
		imgs, err := s.fromIndex(idx, ref)
		return imgs, done, err
	}
	img, err := desc.Image()
	if err != nil {
		return nil, done, err
	}
	return []resolved{{label: ref + digestSuffix(img), img: img}}, done, nil
}

func isLoopback(host string) bool {
	h := host
	if i := strings.LastIndex(h, ":"); i > 0 && !strings.HasSuffix(h, "]") {
		h = h[:i]
	}
	h = strings.Trim(h, "[]")
	return h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1"
}

func digestSuffix(img interface{ Digest() (v1.Hash, error) }) string {
	if d, err := img.Digest(); err == nil {
		return "@" + d.String()
	}
	return ""
}

func (s *Scanner) fromLayout(dirPath, ref string) ([]resolved, func(), error) {
	p, err := layout.FromPath(dirPath)
	if err != nil {
		return nil, func() {}, fmt.Errorf("reading OCI layout %s: %w", dirPath, err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		return nil, func() {}, err
	}
	imgs, err := s.fromIndex(idx, ref)
	return imgs, func() {}, err
}

// fromIndex returns the images of an index (nested indexes included),
// filtered by platform.
func (s *Scanner) fromIndex(idx v1.ImageIndex, ref string) ([]resolved, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var out []resolved
	for _, d := range m.Manifests {
		switch {
		case d.MediaType.IsIndex():
			sub, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			imgs, err := s.fromIndex(sub, ref)
			if err != nil {
				return nil, err
			}
			out = append(out, imgs...)
		case d.MediaType.IsImage():
			plat := ""
			if d.Platform != nil {
				plat = d.Platform.OS + "/" + d.Platform.Architecture
				if d.Platform.Variant != "" {
					plat += "/" + d.Platform.Variant
				}
			}
			if s.o.Platform != "" && plat != "" && !strings.HasPrefix(plat, s.o.Platform) {
				continue
			}
			if plat == "unknown/unknown" {
				continue // attestation manifests
			}
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, err
			}
			label := ref + "@" + d.Digest.String()
			if plat != "" {
				label += " " + plat
			}
			out = append(out, resolved{label: label, img: img})
		}
	}
	return out, nil
}

// Chunks yields each image's config and each distinct layer's files.
func (s *Scanner) Chunks(ctx context.Context, yield func(credscan.Chunk, error) error) error {
	// a second read (the known-secret sweep's) reads every layer again
	// and rebuilds what Attribute maps findings with
	s.mu.Lock()
	s.layers, s.images = map[string]*layerInfo{}, nil
	s.mu.Unlock()
	type job struct {
		img   string
		index int
		layer v1.Layer
		dig   string
	}
	// layer readers decompress and split the tar streams; file workers
	// scan the files they read, so decompression overlaps scanning
	files := make(chan fileJob, 2*s.o.Workers)
	var fwg sync.WaitGroup
	for range s.o.Workers {
		fwg.Add(1)
		go func() {
			defer fwg.Done()
			for f := range files {
				if err := s.scanFile(ctx, bytes.NewReader(f.data), int64(len(f.data)), f.o, yield); err != nil && ctx.Err() == nil {
					_ = yield(credscan.Chunk{}, err)
				}
			}
		}()
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range s.o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if err := s.scanLayer(ctx, j.img, j.index, j.dig, j.layer, files, yield); err != nil && ctx.Err() == nil {
					_ = yield(credscan.Chunk{}, err)
				}
			}
		}()
	}
	defer func() {
		close(jobs)
		wg.Wait()
		close(files)
		fwg.Wait()
	}()
	for _, rf := range s.refs {
		imgs, done, err := s.open(ctx, rf.Ref)
		for i := range imgs {
			imgs[i].label = rf.Label + strings.TrimPrefix(imgs[i].label, rf.Ref)
			imgs[i].app = rf.App
		}
		ref, app := rf.Label, rf.App
		if err != nil {
			if errors.Is(err, credscan.ErrUsage) {
				return err
			}
			if err := yield(credscan.Chunk{}, &credscan.ItemError{Origin: credscan.Origin{Kind: credscan.KindImage, App: app, Target: ref}, Err: err}); err != nil {
				return err
			}
			continue
		}
		for _, r := range imgs {
			info := &imageInfo{label: r.label, app: r.app}
			if err := s.scanConfig(r, yield); err != nil {
				return err
			}
			layers, err := r.img.Layers()
			if err != nil {
				if err := yield(credscan.Chunk{}, &credscan.ItemError{Origin: credscan.Origin{Kind: credscan.KindImage, App: r.app, Target: r.label}, Err: fmt.Errorf("listing layers: %w", err)}); err != nil {
					return err
				}
				continue
			}
			for i, l := range layers {
				d, err := l.Digest()
				if err != nil {
					_ = yield(credscan.Chunk{}, &credscan.ItemError{Origin: credscan.Origin{Kind: credscan.KindImage, App: r.app, Target: r.label}, Err: fmt.Errorf("layer %d: %w", i, err)})
					continue
				}
				info.layers = append(info.layers, d.String())
				s.mu.Lock()
				_, seen := s.layers[d.String()]
				if !seen {
					s.layers[d.String()] = &layerInfo{files: map[string]bool{}}
				}
				s.mu.Unlock()
				if seen {
					continue // shared with an image scanned before
				}
				select {
				case jobs <- job{img: r.label, index: i, layer: l, dig: d.String()}:
				case <-ctx.Done():
					done()
					return ctx.Err()
				}
			}
			s.mu.Lock()
			s.images = append(s.images, info)
			s.mu.Unlock()
		}
		done()
	}
	return nil
}

// scanConfig yields the config's Env, Labels, Cmd/Entrypoint and history
// as small files named so the rule pack reads them as .env, .env and
// Dockerfile lines.
func (s *Scanner) scanConfig(r resolved, yield func(credscan.Chunk, error) error) error {
	o := credscan.Origin{Kind: credscan.KindImage, App: r.app, Target: r.label}
	cf, err := r.img.ConfigFile()
	if err != nil {
		o.Path = "config"
		return yield(credscan.Chunk{}, &credscan.ItemError{Origin: o, Err: fmt.Errorf("reading the config: %w", err)})
	}
	var env, labels, cmd, hist strings.Builder
	for _, e := range cf.Config.Env {
		env.WriteString(e + "\n")
	}
	keys := make([]string, 0, len(cf.Config.Labels))
	for k := range cf.Config.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		labels.WriteString(k + "=" + cf.Config.Labels[k] + "\n")
	}
	cmd.WriteString("ENTRYPOINT " + strings.Join(cf.Config.Entrypoint, " ") + "\n")
	cmd.WriteString("CMD " + strings.Join(cf.Config.Cmd, " ") + "\n")
	for _, h := range cf.History {
		line := strings.TrimSpace(h.CreatedBy)
		line = strings.TrimPrefix(line, "/bin/sh -c #(nop) ")
		if strings.HasPrefix(line, "/bin/sh -c ") {
			line = "RUN " + strings.TrimPrefix(line, "/bin/sh -c ")
		}
		hist.WriteString(strings.ReplaceAll(strings.TrimSpace(line), "\n", " ") + "\n")
	}
	for _, part := range []struct{ path, data string }{
		{"config/Env.env", env.String()}, {"config/Labels.env", labels.String()},
		{"config/Cmd.dockerfile", cmd.String()}, {"config/history.dockerfile", hist.String()},
	} {
		if part.data == "" {
			continue
		}
		po := o
		po.Path = part.path
		if err := yield(credscan.Chunk{Origin: po, Data: []byte(part.data), StartLine: 1, Whole: true}, nil); err != nil {
			return err
		}
	}
	return nil
}

// scanLayer reads one layer's tar stream, yielding its regular files and
// recording its whiteouts.
// fileJob is a file read from a layer, for a file worker to scan.
type fileJob struct {
	o    credscan.Origin
	data []byte
}

func (s *Scanner) scanLayer(ctx context.Context, img string, index int, dig string, l v1.Layer, files chan<- fileJob, yield func(credscan.Chunk, error) error) error {
	o := credscan.Origin{Kind: credscan.KindImage, App: s.o.App, Target: img, Layer: dig}
	rc, err := l.Uncompressed()
	if err != nil {
		return &credscan.ItemError{Origin: o, Err: fmt.Errorf("layer %d: %w", index, err)}
	}
	defer rc.Close()
	s.mu.Lock()
	li := s.layers[dig]
	s.mu.Unlock()
	tr := tar.NewReader(rc)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return &credscan.ItemError{Origin: o, Err: fmt.Errorf("layer %d: reading its tar stream: %w (the files before were scanned)", index, err)}
		}
		p := path.Clean("/" + h.Name)[1:]
		base := path.Base(p)
		if strings.HasPrefix(base, ".wh.") {
			s.mu.Lock()
			if base == ".wh..wh..opq" {
				li.opaque = append(li.opaque, path.Dir(p))
			} else {
				li.deletes = append(li.deletes, path.Join(path.Dir(p), strings.TrimPrefix(base, ".wh.")))
			}
			s.mu.Unlock()
			continue
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		s.mu.Lock()
		li.files[p] = true
		s.mu.Unlock()
		fo := o
		fo.Path = p
		if h.Size > chunk.DefaultWhole {
			if err := s.scanFile(ctx, tr, h.Size, fo, yield); err != nil { // streamed
				return err
			}
			continue
		}
		data := make([]byte, h.Size)
		if _, err := io.ReadFull(tr, data); err != nil {
			return &credscan.ItemError{Origin: fo, Err: fmt.Errorf("layer %d: reading the file: %w (the files before were scanned)", index, err)}
		}
		select {
		case files <- fileJob{o: fo, data: data}:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	s.mu.Lock()
	li.scanned = true
	s.mu.Unlock()
	return nil
}

// scanFile yields one file, opening archives to the depth allowed.
func (s *Scanner) scanFile(ctx context.Context, r io.Reader, size int64, o credscan.Origin, yield func(credscan.Chunk, error) error) error {
	return archive.Limits{MaxDepth: s.o.MaxDepth, MaxBytes: s.o.MaxArchiveBytes, MaxRatio: s.o.MaxRatio}.Chunks(ctx, r, size, o, yield)
}

// Attribute copies each layer finding to every image that holds the layer
// and tags those a later layer of that image deletes or replaces.
// Findings of other sources pass through.
func (s *Scanner) Attribute(fs []*credscan.Finding) []*credscan.Finding {
	s.mu.Lock()
	defer s.mu.Unlock()
	mine := map[string]bool{}
	for _, img := range s.images {
		mine[img.label] = true
	}
	var out []*credscan.Finding
	for _, f := range fs {
		if f.Origin.Kind != credscan.KindImage || (f.Origin.Layer == "" && !mine[f.Origin.Target]) || (f.Origin.Layer != "" && s.layers[f.Origin.Layer] == nil) {
			out = append(out, f) // another source's
			continue
		}
		if f.Origin.Layer == "" {
			f.Tags = append(f.Tags, TagConfig)
			if f.Origin.Path == "config/history.dockerfile" && f.Origin.Line > 0 {
				f.Tags = append(f.Tags, fmt.Sprintf("image:history:%d", f.Origin.Line-1)) // history[N]
			}
			out = append(out, f)
			continue
		}
		for _, img := range s.images {
			idx := -1
			for i, d := range img.layers {
				if d == f.Origin.Layer {
					idx = i
					break
				}
			}
			if idx < 0 {
				continue
			}
			g := *f
			g.Origin.Target = img.label
			g.Origin.App = img.app
			g.Tags = append(append([]string(nil), f.Tags...), fmt.Sprintf("image:layer:%d", idx))
			file := strings.SplitN(f.Origin.Path, "!", 2)[0]
			if by := s.deletedAfter(img, idx, file); by >= 0 {
				g.Tags = append(g.Tags, TagDeleted, fmt.Sprintf("image:deleted-in-layer:%d", by))
			}
			out = append(out, &g)
		}
	}
	return out
}

// deletedAfter returns the index of the first layer after idx that
// deletes or replaces file, or -1.
func (s *Scanner) deletedAfter(img *imageInfo, idx int, file string) int {
	for i := idx + 1; i < len(img.layers); i++ {
		li := s.layers[img.layers[i]]
		if li == nil {
			continue
		}
		if li.files[file] {
			return i
		}
		for _, d := range li.deletes {
			if d == file || strings.HasPrefix(file, d+"/") {
				return i
			}
		}
		for _, d := range li.opaque {
			if strings.HasPrefix(file, d+"/") {
				return i
			}
		}
	}
	return -1
}

// untar extracts an OCI archive (small: manifests and blobs) to dir.
func untar(file, dst string) error {
	f, err := regular.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := path.Join(dst, path.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(path.Dir(p), 0o755); err != nil {
				return err
			}
			w, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			if _, err := io.Copy(w, tr); err != nil {
				w.Close()
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
		}
	}
}
