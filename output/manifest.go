package output

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/internal/atomicfile"
)

// ManifestEntry is one line of MANIFEST.sha256: a file of the output set and its SHA-256.
type ManifestEntry struct {
	// SHA256 is lower-case hex.
	SHA256 string
	// Name is a plain file name (no directory, no separator or control character).
	Name string
}

// ParseManifest reads a sha256sum-format manifest as WriteSet writes it: one
// "<64 hex digits><two spaces><file name>" per line ("<hex> *<name>", sha256sum's binary
// mode, is accepted too), a final newline optional, CRLF line ends tolerated. It returns the
// entries of every well-formed line and, joined, an error per bad line naming its number and
// what is wrong: a name with a directory part or a separator (a manifest that would point
// outside its directory), a digest that is not 64 hex digits, a name listed twice, the
// manifest naming itself. Upper-case digests are lower-cased.
func ParseManifest(data []byte) ([]ManifestEntry, error) {
	var entries []ManifestEntry
	var errs []error
	seen := map[string]int{}
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, line := range lines {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		e, err := parseManifestLine(line)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("line %d: %w", n, err))
			continue
		case e.Name == ManifestName:
			errs = append(errs, fmt.Errorf("line %d: the manifest lists itself", n))
			continue
		case seen[e.Name] > 0:
			errs = append(errs, fmt.Errorf("line %d: %q is listed twice (first on line %d)", n, e.Name, seen[e.Name]))
			continue
		}
		seen[e.Name] = n
		entries = append(entries, e)
	}
	return entries, errors.Join(errs...)
}

func parseManifestLine(line string) (ManifestEntry, error) {
	if line == "" {
		return ManifestEntry{}, errors.New("empty line")
	}
	if len(line) < 66 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*') {
		return ManifestEntry{}, errors.New(`want "<sha256 hex>  <file name>"`)
	}
	sum := strings.ToLower(line[:64])
	if _, err := hex.DecodeString(sum); err != nil {
		return ManifestEntry{}, fmt.Errorf("digest %q is not 64 hex digits", line[:64])
	}
	name := line[66:]
	if !atomicfile.PlainName(name) {
		return ManifestEntry{}, fmt.Errorf("file name %q is not a plain file name in the output directory", name)
	}
	return ManifestEntry{SHA256: sum, Name: name}, nil
}

// FormatManifest writes entries in the format ParseManifest reads (and sha256sum -c checks).
func FormatManifest(entries []ManifestEntry) []byte {
	var b strings.Builder
	for _, e := range entries {
		fmt.Fprintf(&b, "%s  %s\n", e.SHA256, e.Name)
	}
	return []byte(b.String())
}
