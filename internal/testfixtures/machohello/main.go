// Command machohello is a tiny program that tests cross-build for darwin to obtain real Mach-O
// files: a linker-signed ad-hoc arm64 binary and an unsigned amd64 one.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stdout, "hello from an edrpolicy Mach-O fixture")
}
