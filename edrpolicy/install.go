package edrpolicy

import (
	"context"
	"time"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// Install is an inspected install with the judgements Decide makes about its files: which are
// executables, which signatures a signer rule may trust (with the policy's pinned signers),
// which files are tampered with, and which lie in app bundles whose resources are not sealed.
// It decides nothing; package check simulates a policy against it, so that a simulation and
// Decide judge every file alike.
type Install struct {
	// Inventory is the inspection of the install's roots.
	Inventory *Inventory
	judge     *signerJudge
	broken    map[string]string
	unsealed  map[string]bool
}

// InspectInstall inspects the install folders roots and judges their files as Decide does,
// pinning the signers pins (thumbprints or Apple Team IDs, as DecideOptions.PinSigners) at
// time now (zero: time.Now()). A root that is not a directory is an *OptionError for the field
// Roots.
func InspectInstall(ctx context.Context, roots []string, opts InspectOptions, pins []string, now time.Time) (*Install, error) {
	if err := checkRoots("Roots", roots); err != nil {
		return nil, err
	}
	inv, err := Inspect(ctx, roots, opts)
	if err != nil {
		return nil, err
	}
	return NewInstall(inv, pins, now), nil
}

// NewInstall judges an inventory as InspectInstall does.
func NewInstall(inv *Inventory, pins []string, now time.Time) *Install {
	return &Install{Inventory: inv, judge: newSignerJudge(pins, now), broken: brokenBundles(inv), unsealed: unsealedBundles(inv)}
}

// Executables returns the files Decide gives executable rules: readable executables (PE,
// Mach-O, ELF) and the files that match scriptGlobs (a profile's ScriptGlobs), in inventory
// order; symbolic links and app bundle folders are left out.
func (in *Install) Executables(scriptGlobs []string) []*FileEvidence {
	var out []*FileEvidence
	for i := range in.Inventory.Files {
		f := &in.Inventory.Files[i]
		if f.Symlink != "" || f.Format == hashing.FormatAppBundle {
			continue
		}
		if f.SHA256 == "" {
			continue // unread: UnreadFiles names it
		}
		if !f.IsExecutable() && !(len(scriptGlobs) > 0 && matchAny(scriptGlobs, f.Path)) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// Tampered reports whether f's signature does not verify or the seal of the app bundle it
// lies in is broken.
func (in *Install) Tampered(f *FileEvidence) bool {
	return f.SignatureStatus == signers.StatusInvalid || enclosingBroken(in.broken, f) != ""
}

// TrustedSignatures returns f's signatures a signer rule may trust, as Decide judges them
// (valid, leaf allowed to sign code and valid when it signed, chain trusted or leaf pinned,
// strong digests or pinned, an Apple Team ID only when proven), the one to use first; or,
// when there is none, why not.
func (in *Install) TrustedSignatures(f *FileEvidence) ([]*signers.Signature, string) {
	sigs, why, _ := in.judge.fileSigners(f, in.broken)
	return sigs, why
}

// UnsealedNote says, for a file in an app bundle whose resources are not sealed (no
// _CodeSignature), which bundle and what that means ("<bundle>: the app bundle's resources
// are not sealed ..."); "" for any other file.
func (in *Install) UnsealedNote(f *FileEvidence) string {
	if b, ok := inUnsealed(in.unsealed, f); ok {
		return b + ": " + unsealedText
	}
	return ""
}

// ProvenTeamID returns the Apple Team ID a signer rule may name for s (one a certificate
// chaining to Apple's root proves, agreeing with the CodeDirectory), or "" and why not.
func ProvenTeamID(s *signers.Signature) (team, whyNot string) {
	return provenTeamID(s)
}

// DisplayPath is how generate and check name the file in messages: its root joined to its
// path, or the path alone when it was inspected as a file of its own.
func (f *FileEvidence) DisplayPath() string {
	return displayName(*f)
}
