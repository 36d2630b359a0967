//go:build unix

package hashing

import (
	"os"
	"syscall"
)

// openNoBlock opens p for reading without blocking on a FIFO with no writer; the caller
// checks the type of what it got and refuses anything irregular before reading.
func openNoBlock(p string) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	return f, nil
}
