//go:build unix && !linux

package safeopen

func unixMkdev(major, minor uint32) uint64 {
	return uint64(major)<<24 | uint64(minor)
}
