package edrpolicy_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// InspectFS walks any fs.FS (here an in-memory tree) and returns evidence in path order.
// Inspect does the same for OS paths.
func ExampleInspectFS() {
	install := fstest.MapFS{
		"CrashPlan/conf/service.properties": {Data: []byte("port=4244\n")},
		"CrashPlan/upgrade.sh":              {Data: []byte("#!/bin/sh\n"), Mode: 0o755},
	}
	inv, err := edrpolicy.InspectFS(context.Background(), install, "CrashPlan", edrpolicy.InspectOptions{
		Digests: hashing.Algorithms{SHA1: true},
	})
	if err != nil {
		panic(err)
	}
	for _, f := range inv.Files {
		fmt.Println(f.Path, f.Size, f.Format, f.SHA256[:16], f.SHA1[:16])
	}
	// Output:
	// conf/service.properties 10 other 6712b260e4e5075e 02fd1a89386d3960
	// upgrade.sh 10 other a8076d3d28d21e02 bd971bec88149956
}
