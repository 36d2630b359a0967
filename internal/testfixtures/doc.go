// Package testfixtures makes signed test inputs offline, with fresh keys each run (NewCA,
// NewLeaf, NewTSA): Authenticode-signed PE files (PESign, PESignOsslsigncode,
// PEAppendSignature, version resources), Apple-signed
// Mach-O files and .app bundles with their certificate chains (NewAppleChain, MachOBundle,
// files carrying a second CodeDirectory), and hostile files for the robustness tests. Tests
// cross-check what these produce with independent tools (osslsigncode, sbverify, pesign,
// openssl) rather than trusting this package. It is for tests only.
package testfixtures
