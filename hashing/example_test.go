package hashing_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"strings"
	"testing/fstest"

	"github.com/edrpolicy/edrpolicy/hashing"
)

// A Hasher computes SHA-256 (and SHA-1/MD5 when asked) in one pass with a reusable buffer.
func ExampleHasher_Sum() {
	h := hashing.NewHasher(hashing.Algorithms{MD5: true})
	d, n, err := h.Sum(strings.NewReader("hello\n"))
	if err != nil {
		panic(err)
	}
	fmt.Println(n, d.SHA256)
	fmt.Println(d.MD5)
	// Output:
	// 6 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03
	// b1946ac92492d2347c6235b4d2611184
}

// Sniff tells PE, Mach-O and universal Mach-O apart, and does not mistake a Java class file
// (which shares the 0xCAFEBABE magic) for a universal binary.
func ExampleSniff() {
	class := []byte{0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x3d} // Java 17 class file
	thin := append([]byte{0xcf, 0xfa, 0xed, 0xfe}, make([]byte, 28)...)
	fmt.Println(hashing.Sniff(class, nil, int64(len(class))))
	fmt.Println(hashing.Sniff(thin, nil, int64(len(thin))))
	fmt.Println(hashing.Sniff([]byte("#!/bin/sh"), bytes.NewReader(nil), 9))
	// Output:
	// other
	// macho
	// other
}

// Walk lists a tree in lexical order; symbolic links are reported, not followed.
func ExampleWalk() {
	fsys := fstest.MapFS{
		"app/bin/tool":  {Data: []byte("x")},
		"app/README":    {Data: []byte("r")},
		"app/bin/alias": {Data: []byte("tool"), Mode: fs.ModeSymlink},
	}
	entries, err := hashing.Walk(context.Background(), fsys, "app", hashing.WalkOptions{})
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		if e.Kind == hashing.KindSymlink {
			fmt.Println(e.Kind, e.Name, "->", e.Target)
			continue
		}
		fmt.Println(e.Kind, e.Name)
	}
	// Output:
	// file app/README
	// dir app/bin
	// symlink app/bin/alias -> tool
	// file app/bin/tool
}
