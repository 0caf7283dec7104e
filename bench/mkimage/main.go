// Command mkimage builds the images bench/image-scan.sh times: a base of
// real files (each directory given with -layer becomes one gzip layer,
// cut at -budget bytes in all), the planted credential files as one more
// layer, and -apps images that add a small app layer on top of the same
// base. It writes them to an OCI layout and, with -push, pushes them to a
// registry (plain HTTP, loopback).
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type dirs []string

func (d *dirs) String() string     { return strings.Join(*d, ",") }
func (d *dirs) Set(s string) error { *d = append(*d, s); return nil }

func main() {
	var layers dirs
	flag.Var(&layers, "layer", "directory of real files for one base layer (repeat)")
	planted := flag.String("planted", "", "directory of planted credential files")
	budget := flag.Int64("budget", 520<<20, "bytes of real files in the base")
	out := flag.String("out", "", "OCI layout to write")
	push := flag.String("push", "", "registry host:port to push to")
	apps := flag.Int("apps", 15, "app images on the shared base")
	extract := flag.String("extract", "", "also write the base's files here (for the directory comparison)")
	flag.Parse()

	var base []v1.Layer
	var total int64
	for _, d := range layers {
		if total >= *budget {
			break
		}
		l, n := dirLayer(d, "base/"+filepath.Base(d), *budget-total, *extract)
		base = append(base, l)
		total += n
	}
	pl, _ := dirLayer(*planted, "app/planted", 1<<30, *extract)
	img, err := mutate.AppendLayers(empty.Image, append(base, pl)...)
	if err != nil {
		log.Fatal(err)
	}
	cf, _ := img.ConfigFile()
	cf = cf.DeepCopy()
	cf.Config.Env = []string{"PGHOST=arp-db.prod.internal", "PGUSER=arp_app", "PGPASSWORD=PwImageEnv0123456789"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		log.Fatal(err)
	}
	p, err := layout.Write(*out, empty.Index)
	if err != nil {
		log.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("base: %d MB uncompressed in %d layers\n", total>>20, len(base))
	var appImgs []v1.Image
	for i := 0; i < *apps; i++ {
		app := fileLayer(fmt.Sprintf("app/app-%d/application.properties", i),
			fmt.Sprintf("spring.datasource.url=jdbc:postgresql://arp-db.prod.internal/arp\nspring.datasource.username=arp_app\nspring.datasource.password=PwApp%02dSecret0123456789\n", i))
		a, err := mutate.AppendLayers(empty.Image, append(base, app)...)
		if err != nil {
			log.Fatal(err)
		}
		appImgs = append(appImgs, a)
	}
	if *push == "" {
		return
	}
	put := func(repo string, im v1.Image) {
		ref, err := name.ParseReference(*push+"/"+repo, name.Insecure)
		if err != nil {
			log.Fatal(err)
		}
		if err := remote.Write(ref, im); err != nil {
			log.Fatal(err)
		}
	}
	put("big:1", img)
	for i, a := range appImgs {
		put(fmt.Sprintf("app%02d:1", i), a)
	}
}

// dirLayer packs up to limit bytes of the regular files under dir into a
// gzip layer below prefix.
func dirLayer(dir, prefix string, limit int64, extract string) (v1.Layer, int64) {
	f, err := os.CreateTemp("", "mkimage-*.tar")
	if err != nil {
		log.Fatal(err)
	}
	tw := tar.NewWriter(f)
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || n >= limit {
			return nil
		}
		fi, err := d.Info()
		if err != nil || !fi.Mode().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		src, err := os.Open(p)
		if err != nil {
			return nil
		}
		defer src.Close()
		if err := tw.WriteHeader(&tar.Header{Name: prefix + "/" + filepath.ToSlash(rel), Mode: 0o644, Size: fi.Size(), Typeflag: tar.TypeReg}); err != nil {
			log.Fatal(err)
		}
		var w io.Writer = tw
		if extract != "" {
			dst := filepath.Join(extract, prefix, rel)
			os.MkdirAll(filepath.Dir(dst), 0o755)
			x, err := os.Create(dst)
			if err != nil {
				log.Fatal(err)
			}
			defer x.Close()
			w = io.MultiWriter(tw, x)
		}
		if _, err := io.Copy(w, src); err != nil {
			log.Fatal(err)
		}
		n += fi.Size()
		return nil
	})
	tw.Close()
	name := f.Name()
	f.Close()
	l, err := tarball.LayerFromFile(name)
	if err != nil {
		log.Fatal(err)
	}
	return l, n
}

func fileLayer(path, content string) v1.Layer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: path, Mode: 0o644, Size: int64(len(content)), Typeflag: tar.TypeReg})
	tw.Write([]byte(content))
	tw.Close()
	b := buf.Bytes()
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil })
	if err != nil {
		log.Fatal(err)
	}
	return l
}
