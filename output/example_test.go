package output_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/edrpolicy/edrpolicy/output"
)

// Write a set, check the folder first as the CLI does, and read the manifest back.
func ExampleWriteSet() {
	dir, err := os.MkdirTemp("", "edrpolicy-out-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "next")

	if err := output.CheckDir(out, ""); err != nil {
		log.Fatal(err) // a policy.json this package did not write, or the previous policy's folder
	}
	files := []output.File{
		{Name: output.PolicyFileName, Data: []byte("{}\n")},
		{Name: "notes.txt", Data: []byte("hello\n")},
	}
	if err := output.WriteSet(out, files); err != nil {
		log.Fatal(err) // out holds what it held before
	}
	data, err := os.ReadFile(filepath.Join(out, output.ManifestName))
	if err != nil {
		log.Fatal(err)
	}
	entries, err := output.ParseManifest(data)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range entries {
		fmt.Println(e.SHA256[:12], e.Name)
	}
	// Output:
	// 5891b5b522d5 notes.txt
	// ca3d163bab05 policy.json
}
