package edrpolicy

import (
	"context"
	"path"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// StarterOptions configure StarterProfile.
type StarterOptions struct {
	// Root is the install folder to inspect.
	Root string
	// OS is windows, mac or linux: the platform the install is for.
	OS profile.OS
	// Name is the new profile's name.
	Name string
	// InstallPath is the folder Root is installed as on endpoints (optional).
	InstallPath string
	// Inspect configures the inspection (trusted roots, jobs).
	Inspect InspectOptions
}

// scriptExts are the extensions a starter profile lists as scripts (code that is not PE,
// Mach-O or ELF).
var scriptExts = map[string]bool{".sh": true, ".bash": true, ".command": true, ".ps1": true, ".psm1": true, ".bat": true, ".cmd": true, ".vbs": true}

// StarterProfile inspects an install and returns a starter profile for it (see
// profile.Starter): the executables, the valid signers seen, the version sources, cache and
// log folders suggested by their names, and TODOs. A file whose signature does not verify, or
// that lies in a bundle whose seal is broken, contributes no signer.
func StarterProfile(ctx context.Context, opts StarterOptions) (*profile.Profile, error) {
	if err := checkRoots("Root", []string{opts.Root}); err != nil {
		return nil, err
	}
	if err := checkOS("OS", opts.OS); err != nil {
		return nil, err
	}
	if err := (&profile.Profile{SchemaVersion: profile.SchemaVersion, Name: opts.Name}).Validate(); err != nil {
		return nil, optionErr("Name", opts.Name, err)
	}
	inv, err := Inspect(ctx, []string{opts.Root}, opts.Inspect)
	if err != nil {
		return nil, err
	}
	in := profile.StarterInput{Name: opts.Name, OS: opts.OS, Root: opts.Root, InstallPath: opts.InstallPath}
	broken := brokenBundles(inv)
	for i := range inv.Files {
		f := &inv.Files[i]
		if f.Symlink != "" || f.Error != "" {
			continue
		}
		in.Files = append(in.Files, observedFile(f, broken))
	}
	return profile.Starter(in)
}

func observedFile(f *FileEvidence, broken map[string]string) profile.ObservedFile {
	o := profile.ObservedFile{Path: f.Path, Format: string(f.Format), SHA256: f.SHA256, SignatureStatus: string(f.SignatureStatus), Kind: profile.ObservedOther}
	switch {
	case f.Format == hashing.FormatAppBundle:
		o.Kind = profile.ObservedBundle
		if f.Bundle != nil {
			o.BundleVersion = f.Bundle.ShortVersion
		}
	case f.IsExecutable():
		o.Kind = profile.ObservedExecutable
	case scriptExts[strings.ToLower(path.Ext(f.Path))]:
		o.Kind = profile.ObservedScript
	}
	if f.PE != nil && f.PE.Version != nil {
		o.Company, o.ProductVersion = f.PE.Version.CompanyName, f.PE.Version.ProductVersion
	}
	if o.Kind != profile.ObservedExecutable || f.SignatureStatus != signers.StatusValid || enclosingBroken(broken, f) != "" {
		return o
	}
	for _, s := range f.Signatures {
		if s.Status != signers.StatusValid || s.Signer == nil {
			continue
		}
		// Only a Team ID a certificate under Apple's root proves is a Team ID; any other
		// signer is recorded by its leaf thumbprint.
		team, _ := provenTeamID(&s)
		o.Signers = append(o.Signers, profile.ObservedSigner{
			Kind: string(s.Kind), TeamID: team, SigningID: s.SigningID,
			CommonName: s.Signer.CommonName, Organization: s.Signer.Organization,
			ThumbprintSHA1: s.Signer.ThumbprintSHA1, ThumbprintSHA256: s.Signer.ThumbprintSHA256,
			NotAfter: s.Signer.NotAfter.UTC().Format("2006-01-02"), Chain: string(s.Chain),
		})
	}
	return o
}
