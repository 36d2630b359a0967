package main

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/corpus"
	"github.com/edrpolicy/edrpolicy/signers"
)

var update = flag.Bool("update", false, "rewrite the cmp golden files of testdata/scenario/*.txtar")

// TestScenarioScripts runs testdata/scenario/*.txtar: issue 11's two scenarios (a Windows
// folder with a trusted exe whose signer is not the profile's, DLLs under another signer
// and an unsigned file; a macOS folder with Developer ID binaries) at every level, pinned
// and not, for every vendor, checking with edrpolicy-covered that every executable is
// covered in the files themselves. $SAMPLE is the committed sample install; $WORK/corpus
// holds real Developer-ID-signed Mach-O files from the corpus when it is there (condition
// corpus). go test -update rewrites the cmp golden files in the scripts.
func TestScenarioScripts(t *testing.T) {
	sample, err := filepath.Abs(filepath.Join("..", "..", "examples", "sample"))
	require.NoError(t, err)
	var corpus, teams []string
	if !testing.Short() {
		corpus, teams = developerIDCorpus(t)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "testdata/scenario",
		UpdateScripts: *update,
		Setup: func(e *testscript.Env) error {
			e.Setenv("SAMPLE", sample)
			if len(teams) > 0 {
				e.Setenv("CORPUS_TEAM", teams[0])
			}
			dir := filepath.Join(e.WorkDir, "corpus", "bin")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			for _, f := range corpus {
				if err := linkOrCopy(f, filepath.Join(dir, filepath.Base(f))); err != nil {
					return err
				}
			}
			return nil
		},
		Condition: func(cond string) (bool, error) {
			if cond == "corpus" {
				return len(corpus) >= 2, nil
			}
			return false, nil
		},
	})
}

// developerIDCorpus returns up to two real Mach-O files of the corpus (internal/corpus:
// scripts/fetch-corpus.sh's index) with a valid Developer ID signature whose chain is trusted,
// from two different Team IDs, judged by their inspection rather than by their names, and
// their Team IDs. In CI a missing corpus fails the test; elsewhere the macOS scenario then
// runs on the sample only.
func developerIDCorpus(t *testing.T) ([]string, []string) {
	t.Helper()
	files, err := corpus.Index("macho")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("macho corpus: %v (run scripts/fetch-corpus.sh)", err)
		}
		t.Logf("no macho corpus (%v): the macOS scenario runs on the sample only", err)
		return nil, nil
	}
	var paths []string
	for _, f := range files {
		paths = append(paths, f.Path)
	}
	inv, err := edrpolicy.Inspect(context.Background(), paths, edrpolicy.InspectOptions{Verify: signers.Options{}})
	require.NoError(t, err)
	var out, ids []string
	teams := map[string]bool{}
	for _, f := range inv.Files {
		if f.Format != hashing.FormatMachO && f.Format != hashing.FormatMachOUniversal || f.SignatureStatus != signers.StatusValid || len(f.Signatures) == 0 {
			continue
		}
		s := f.Signatures[0]
		if s.Kind != signers.KindApple || s.Chain != signers.ChainTrusted || s.TeamID == "" || teams[s.TeamID] {
			continue
		}
		teams[s.TeamID] = true
		out, ids = append(out, filepath.Join(f.Root, f.Path)), append(ids, s.TeamID)
		if len(out) == 2 {
			break
		}
	}
	t.Logf("corpus: %d Developer ID Mach-O file(s) for the macOS scenario: %v %v", len(out), out, ids)
	return out, ids
}

func linkOrCopy(src, dst string) error {
	if os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
