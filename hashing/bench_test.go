package hashing

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// Each size is measured twice in the same run: the Hasher (one streaming pass, fixed buffer)
// and the naive baseline (read the whole file into memory, then hash it). Compare the two
// lines' MB/s and B/op: the ratio is what matters, not the absolute figures.
func benchSizes() []int { return []int{1 << 20, 64 << 20} }

func benchFile(b *testing.B, size int) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "f")
	data := make([]byte, size)
	_, _ = rand.Read(data)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

func BenchmarkHashFile(b *testing.B) {
	for _, size := range benchSizes() {
		p := benchFile(b, size)
		b.Run(fmt.Sprintf("hasher/%dMiB", size>>20), func(b *testing.B) {
			h := NewHasher(Algorithms{})
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				f, err := os.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := h.SumFile(f, f, int64(size), nil); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
		b.Run(fmt.Sprintf("baseline-readall/%dMiB", size>>20), func(b *testing.B) {
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				data, err := os.ReadFile(p)
				if err != nil {
					b.Fatal(err)
				}
				_ = sha256.Sum256(data)
			}
		})
	}
}

// BenchmarkHashAll measures the cost of asking for SHA-1 and MD5 too (what a vendor format
// that needs them pays), against SHA-256 alone in the same run.
func BenchmarkHashAll(b *testing.B) {
	data := make([]byte, 64<<20)
	_, _ = rand.Read(data)
	for _, tc := range []struct {
		name string
		algs Algorithms
	}{{"sha256", Algorithms{}}, {"sha256+sha1+md5", Algorithms{SHA1: true, MD5: true}}} {
		b.Run(tc.name, func(b *testing.B) {
			h := NewHasher(tc.algs)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := h.SumFile(bytes.NewReader(data), nil, int64(len(data)), nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWalkTree measures walking and hashing a tree of 2,000 small files on 1 worker and
// on GOMAXPROCS workers in the same run.
func BenchmarkWalkTree(b *testing.B) {
	dir := b.TempDir()
	var total int64
	for i := 0; i < 2000; i++ {
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%40), fmt.Sprintf("f%04d", i))
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		data := make([]byte, 1024+i*16)
		_, _ = rand.Read(data)
		total += int64(len(data))
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	for _, jobs := range []int{1, 0} {
		name := "jobs=1"
		if jobs == 0 {
			name = "jobs=GOMAXPROCS"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(total)
			fsys := DirFS(dir)
			for b.Loop() {
				es, err := Walk(context.Background(), fsys, ".", WalkOptions{})
				if err != nil {
					b.Fatal(err)
				}
				var files []Entry
				for _, e := range es {
					if e.Kind == KindFile {
						files = append(files, e)
					}
				}
				hs := make([]*Hasher, 64)
				err = Parallel(context.Background(), len(files), jobs, func(w, i int) {
					if hs[w] == nil {
						hs[w] = NewHasher(Algorithms{})
					}
					f, err := fsys.Open(files[i].Name)
					if err != nil {
						b.Error(err)
						return
					}
					defer f.Close()
					if _, err := hs[w].SumFile(f, f.(io.ReaderAt), files[i].Size, nil); err != nil {
						b.Error(err)
					}
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
