//go:build !unix

package atomicfile

// lockDir does nothing where the platform has no flock: one writer per directory at a time is
// then the caller's to ensure.
func lockDir(string) (func(), error) { return func() {}, nil }
