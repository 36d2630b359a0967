package edrpolicy

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// ErrNoInstallFolder says that the profile has install folders for the OS, but none for the
// version and install kind asked for: the inspected install is not one the profile knows, so
// its files have no endpoint paths to take. InstallPaths returns it wrapped; Decide and
// Generate return it in an *OptionError{Field: "InstallPaths"} when no install paths were
// given.
var ErrNoInstallFolder = errors.New("the profile gives no install folder")

// InstallQuery says which install of the profile InstallPaths maps the inspected roots to.
type InstallQuery struct {
	// Profile describes the application (required).
	Profile *profile.Profile
	// Product is the profile's product (empty: the profile's default product).
	Product string
	// OS is windows, mac or linux (required).
	OS profile.OS
	// Version is the application version (parse it with profile.ParseVersion). It is required
	// when the profile's paths for OS depend on the version: without it there is no telling
	// one era's folder from another's.
	Version profile.Version
	// AssumePaths is the version whose path table to use when Version falls into a gap no
	// source covers (as DecideOptions.AssumePaths); the zero Version assumes nothing.
	AssumePaths profile.Version
	// Install is all-users (default), per-user or legacy-os: which rows of the path table
	// apply.
	Install string
	// Inventory is the inspection of the roots to map (required): each root of its files
	// (FileEvidence.Root) is mapped, and its files tell a root that is a Mac bundle
	// (Code42.app) from a root that holds one. InstallPaths reads no file system.
	Inventory *Inventory
}

// InstallPaths maps each root of q.Inventory to the folders it is installed as on endpoints:
// the profile's main application folders (rows of role executable and kind folder) for the
// OS, version, product and install kind. For a Mac bundle folder, a root that is the bundle
// maps to the bundle path and a root that holds the bundle maps to its parent
// (/Applications). The result is what Decide uses when DecideOptions.InstallPaths is empty.
//
// It returns an empty map, and no error, when the profile has no install folder for the OS
// at all (the generic profile): the roots have no default. It returns an error for a missing
// or unparsable option (*OptionError), a version in a gap no source fills
// (*profile.UnknownError), and a profile that has install folders for the OS but none for
// this query (ErrNoInstallFolder); never every era's folders. It reads no file system.
func InstallPaths(q InstallQuery) (map[string][]string, error) {
	t, err := installTable(q)
	if err != nil {
		return nil, err
	}
	out, err := mapInstallRoots(q.Profile, q.OS, q.Version, q.Install, t, q.Inventory)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string][]string{}
	}
	return out, nil
}

// installTable validates q and returns the path table it selects.
func installTable(q InstallQuery) (*profile.Table, error) {
	p := q.Profile
	if p == nil {
		return nil, &OptionError{Field: "Profile", Reason: "required: the profile of the application"}
	}
	if err := checkOS("OS", q.OS); err != nil {
		return nil, err
	}
	if err := checkInstall(q.Install); err != nil {
		return nil, err
	}
	if q.Inventory == nil {
		return nil, &OptionError{Field: "Inventory", Reason: "required: the inspection of the roots to map"}
	}
	if _, err := p.Product(q.Product); err != nil {
		return nil, optionErr("Product", q.Product, err)
	}
	if q.Version.IsZero() && versioned(p, q.OS) {
		return nil, optionf("Version", "", "profile %s: the %s paths depend on the version: give the application version", p.Name, q.OS)
	}
	t, err := p.PathTable(profile.PathQuery{OS: q.OS, Version: q.Version, AssumePaths: q.AssumePaths, Install: q.Install, Product: q.Product})
	if err != nil {
		return nil, err
	}
	if !q.AssumePaths.IsZero() && t.Assumed == nil {
		return nil, optionf("AssumePaths", q.AssumePaths.String(), "version %s is documented; an assumed path table is only for a version no source covers", q.Version)
	}
	return t, nil
}

// mapInstallRoots maps each root of inv to the main application folders of t, the path table
// of profile p for osName (see InstallPaths). It returns nil when p has no install folder for
// osName at all, and an error wrapping ErrNoInstallFolder when it has some, but none in t
// while inv holds files under a root. Decide and InstallPaths share it.
func mapInstallRoots(p *profile.Profile, osName profile.OS, v profile.Version, install string, t *profile.Table, inv *Inventory) (map[string][]string, error) {
	roots := inventoryRoots(inv)
	mains := mainFolders(t.Rows)
	if len(roots) == 0 || len(mains) == 0 && !hasMainFolder(p, osName) {
		return nil, nil
	}
	if len(mains) == 0 {
		return nil, fmt.Errorf("%w for %s: profile %s, version %s, %s install", ErrNoInstallFolder, osName, p.Name, orUnknown(v.String()), orDefault(install, profile.InstallAllUsers))
	}
	out := make(map[string][]string, len(roots))
	for _, root := range roots {
		base := filepath.Base(filepath.Clean(root))
		var to []string
		for _, m := range mains {
			mb := path.Base(filepath.ToSlash(m))
			if osName != profile.OSWindows && path.Ext(mb) == ".app" && base != mb && holdsTop(inv, root, mb) {
				to = append(to, path.Dir(filepath.ToSlash(m)))
			} else {
				to = append(to, m)
			}
		}
		out[root] = to
	}
	return out, nil
}

// mainFolders returns the main application folders among rows (role executable, kind
// folder).
func mainFolders(rows []profile.PathRow) []string {
	var out []string
	for _, r := range rows {
		if isMainFolder(r) {
			out = append(out, r.Path)
		}
	}
	return out
}

// hasMainFolder reports whether p has a main application folder for osName in any version or
// install kind.
func hasMainFolder(p *profile.Profile, osName profile.OS) bool {
	for _, r := range p.Paths {
		if r.OS == osName && isMainFolder(r) {
			return true
		}
	}
	return false
}

func isMainFolder(r profile.PathRow) bool {
	return r.Role == profile.RoleExecutable && r.Kind == "folder"
}

// inventoryRoots returns the distinct roots of inv's files, in order of first appearance
// (files inspected as arguments, with no root, are left out).
func inventoryRoots(inv *Inventory) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range inv.Files {
		if f.Root != "" && !seen[f.Root] {
			seen[f.Root] = true
			out = append(out, f.Root)
		}
	}
	return out
}

// holdsTop reports whether inv has a file under root whose first path segment is name: the
// root holds the folder name rather than being it.
func holdsTop(inv *Inventory, root, name string) bool {
	for _, f := range inv.Files {
		if f.Root != root {
			continue
		}
		if top, _, _ := strings.Cut(f.Path, "/"); top == name {
			return true
		}
	}
	return false
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
