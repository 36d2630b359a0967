package macho_test

import (
	"context"
	"fmt"
	"os"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/macho"
)

// Verify one Mach-O file and print, per slice, its architecture, CDHash and Team ID.
func Example() {
	f, err := os.Open("/usr/local/bin/some-macos-tool")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	fi, _ := f.Stat()
	res, err := macho.New().Verify(context.Background(), signers.Input{
		Path: f.Name(), R: f, Size: fi.Size(), Format: hashing.FormatMachO,
	}, signers.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("status:", res.Status)
	for _, sl := range res.MachO.Slices {
		fmt.Println(sl.Arch, sl.CDHash, sl.TeamID, sl.SignerClass)
	}
}
