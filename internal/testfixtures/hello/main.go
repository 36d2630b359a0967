// Command hello is a tiny program that the test fixtures cross-build for windows/amd64 and
// windows/386 and then sign (see internal/testfixtures.PEBuildHello).
package main

import "fmt"

func main() {
	fmt.Println("hello from an edrpolicy test fixture")
}
