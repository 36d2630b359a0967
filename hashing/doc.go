// Package hashing reads each file of an install once, streaming, and computes every digest
// asked for in that one read: SHA-256 always, SHA-1 and MD5 only when a vendor format needs
// them (Algorithms, ParseAlgorithms).
//
// A Hasher owns one reusable buffer (BufferSize) and sums a file with bounded memory whatever
// its size; TapFunc lets a signature verifier see the same bytes, so a PE's Authenticode
// digest costs no second read. Sniff tells the format from the first bytes (PE, thin or
// universal Mach-O as opposed to a Java class file, ELF). Walk lists a tree in a stable order,
// reporting symbolic links, loops (ErrSymlinkLoop), special files (ErrNotRegular) and files
// that change size while read (ErrSizeChanged) as entries with an error instead of failing;
// Parallel runs the per-file work on n workers and stops on the context.
//
// Use it through edrpolicy.Inspect, or directly:
//
//	h := hashing.NewHasher(hashing.Algorithms{SHA1: true})
//	sums, n, err := h.Sum(f) // one read of f
//
// DirFS is os.DirFS for untrusted trees: it never blocks on a FIFO or device and reports
// symbolic links instead of following them.
package hashing
