package edrpolicy

import (
	"context"
	"os"
)

// VersionAuto asks Generate to read the version from the inspected install.
const VersionAuto = "auto"

// GenerateOptions configure Generate: the install roots to inspect, how to find the version,
// and the decision options.
type GenerateOptions struct {
	// Roots are the install folders to inspect (--root, repeatable). Without roots the policy
	// holds only the profile's folder rules (scan exclusions).
	Roots []string
	// AppVersion is "auto" (read from the install) or X.Y[.Z]; it overrides Decide.Version.
	AppVersion string
	// Inspect configures the inspection of Roots.
	Inspect InspectOptions
	// Decide configures the decision. When Decide.InstallPaths is empty, Decide maps each root
	// to the profile's main application folder for the OS and version (InstallPaths), so that
	// file rules name the paths the files have on endpoints.
	Decide DecideOptions
}

// VersionGiven is the Policy.AppVersionSource Generate records for a version given in
// GenerateOptions.AppVersion, unless DecideOptions.VersionSource says otherwise.
const VersionGiven = "given explicitly"

// Generate inspects the roots, determines the version, and decides the policy. The returned
// policy is the one `edrpolicy generate` writes as policy.json.
//
// Unlike Decide, Generate reads the file system, and only beneath the roots: it inspects them
// (Inspect), and with AppVersion "auto" it reads the version files the profile names
// (DetectVersion). Option errors are *OptionError values naming the field (Roots,
// AppVersion, and the DecideOptions fields Decide names).
func Generate(ctx context.Context, opts GenerateOptions) (*Policy, error) {
	d := opts.Decide
	if d.Profile == nil {
		return nil, &OptionError{Field: "Profile", Reason: "required: the profile of the application"}
	}
	auto := opts.AppVersion == VersionAuto
	// A profile whose paths for the OS do not depend on the version needs none.
	needVersion := versioned(d.Profile, d.OS)
	switch {
	case auto && len(opts.Roots) == 0 && needVersion:
		return nil, optionf("AppVersion", VersionAuto, "needs an install to read the version from: give a root, or the version (X.Y.Z)")
	case auto && len(opts.Roots) == 0:
		auto = false
	case !auto && opts.AppVersion != "":
		d.Version = opts.AppVersion
		if d.VersionSource == "" {
			d.VersionSource = VersionGiven
		}
	}
	if !auto {
		// Fail on usage errors and unknown versions before spending time on the inspection.
		if _, err := newDecider(d); err != nil {
			return nil, err
		}
	} else if _, err := d.Profile.Product(d.Product); err != nil {
		return nil, optionErr("Product", d.Product, err)
	}
	if err := checkRoots("Roots", opts.Roots); err != nil {
		return nil, err
	}
	inv := &Inventory{SchemaVersion: SchemaVersion, Files: []FileEvidence{}}
	if len(opts.Roots) > 0 {
		var err error
		if inv, err = Inspect(ctx, opts.Roots, opts.Inspect); err != nil {
			return nil, err
		}
		if err := nothingToInspect(inv, opts.Roots); err != nil {
			return nil, err
		}
	}
	if auto {
		dv, err := DetectVersion(inv, d.Profile, d.OS)
		switch {
		case err == nil:
			d.Version, d.VersionSource = dv.Version, dv.Source
		case needVersion:
			return nil, optionErr("AppVersion", VersionAuto, err)
		}
	}
	if d.Roots == nil {
		d.Roots = opts.Roots
	}
	return Decide(inv, d)
}

// checkRoots refuses a root that is not a directory: the install folder is what is given.
func checkRoots(field string, roots []string) error {
	for _, r := range roots {
		fi, err := os.Stat(r)
		if err != nil {
			return optionErr(field, r, err)
		}
		if !fi.IsDir() {
			return optionf(field, r, "not a directory (give the install folder)")
		}
	}
	return nil
}

// nothingToInspect refuses a root that holds nothing at all (an empty folder, a wrong path
// that happens to exist): a policy with no rules for it would look like a success.
func nothingToInspect(inv *Inventory, roots []string) error {
	seen := map[string]bool{}
	for _, f := range inv.Files {
		seen[f.Root] = true
	}
	for _, r := range roots {
		if !seen[r] {
			return optionf("Roots", r, "nothing to inspect (the folder holds no files): give the install folder")
		}
	}
	return nil
}
