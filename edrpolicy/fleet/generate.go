package fleet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// Default thresholds below which a digest or a version is an outlier.
const (
	DefaultMinHosts = 2
	DefaultMinShare = 0.01
)

// Options configure Generate.
type Options struct {
	// Evidence are the sources to read (generate --evidence).
	Evidence []Source
	// Generate holds what edrpolicy.Generate takes: the install roots to inspect here as
	// reference evidence (optional), the version (auto: the newest version enough hosts run),
	// the inspection options and the decision options.
	Generate edrpolicy.GenerateOptions
	// MinHosts and MinShare are the thresholds: a digest of a path (or a version) carried by
	// fewer than MinHosts hosts, or by less than MinShare of the hosts that report the path
	// (or of all hosts), is an outlier: named in a fleet-outlier warning, and given no rule.
	// Zero values take DefaultMinHosts and DefaultMinShare.
	MinHosts int
	MinShare float64
	// Read bounds each source.
	Read ReadOptions
}

// ErrNoEvidence is returned (wrapped) when no source yielded a host.
var ErrNoEvidence = errors.New("no evidence")

// Generate merges the evidence of many hosts and decides one policy for what the fleet runs.
//
// Every row is folded into per-path sets (Merger): for each endpoint path (normalized for the
// OS: separators, case on Windows and macOS, the user folder as *), the SHA-256 digests seen
// and the hosts carrying each. Each host's application version is the one most of its rows
// name; the policy's version is --app-version, or the newest version enough hosts run. Each
// version that enough hosts run is decided on its own path table (edrpolicy.Decide, whose
// trust judgement is the only one): a digest that enough of the version's hosts carry becomes
// a FileEvidence — the reference inspect record of that SHA-256 when there is one (this run's
// --root inspection first), else the fleet's facts without signatures, so that osquery-only
// files get hash rules saying why. Rules of the older (or other) versions are kept, labelled
// with their app_version, like generate --keep-previous keeps a previous version's rules.
//
// Outliers are findings, never silently allowed: a digest too few hosts carry (no rule), a
// second build, a signature state or Team ID that differs from the fleet's, a broken bundle
// seal, a version too few hosts run (no rules), reference inspections that disagree, and
// hosts whose version is unknown are fleet-outlier or fleet-version-unknown warnings naming
// the hosts; lines that could not be read are evidence-error warnings and make the policy
// partial. Policy.Fleet.Findings counts them.
func Generate(ctx context.Context, opts Options) (*edrpolicy.Policy, error) {
	g := opts.Generate
	d := g.Decide
	if d.Profile == nil {
		return nil, &edrpolicy.OptionError{Field: "Profile", Reason: "required: the profile of the application"}
	}
	if !d.OS.Valid() {
		return nil, &edrpolicy.OptionError{Field: "OS", Value: string(d.OS), Reason: profile.ErrUnknownOS.Error()}
	}
	t := thresholds{minHosts: opts.MinHosts, minShare: opts.MinShare}
	if t.minHosts <= 0 {
		t.minHosts = DefaultMinHosts
	}
	if t.minShare <= 0 {
		t.minShare = DefaultMinShare
	}
	if t.minShare > 1 {
		return nil, &edrpolicy.OptionError{Field: "MinShare", Value: fmt.Sprint(opts.MinShare), Reason: "want a fraction from 0 to 1"}
	}
	explicit := ""
	if g.AppVersion != "" && g.AppVersion != edrpolicy.VersionAuto {
		if explicit = normVersion(g.AppVersion); explicit == "" {
			return nil, &edrpolicy.OptionError{Field: "AppVersion", Value: g.AppVersion, Reason: "want X.Y[.Z]"}
		}
	}
	m := NewMerger(d.Profile, d.OS)
	run := &fleetRun{opts: opts, t: t, m: m, explicit: explicit}
	if err := run.local(ctx); err != nil {
		return nil, err
	}
	if err := run.read(ctx); err != nil {
		return nil, err
	}
	if len(m.hostNames) == 0 {
		return nil, fmt.Errorf("%w: the evidence names no host with rows for the profile's executable folders (%d rows read, %d ignored)%s", ErrNoEvidence, run.rows, m.ignored, run.errorHint())
	}
	return run.decide()
}

// fleetRun is the state of one Generate.
type fleetRun struct {
	opts     Options
	t        thresholds
	m        *Merger
	explicit string // --app-version, normalized
	localVer string // the version of this run's own inspection
	warnings []edrpolicy.Warning
	sources  []edrpolicy.FleetSource
	rows     int64
	partial  bool
}

// local inspects the --root install as reference evidence.
func (r *fleetRun) local(ctx context.Context) error {
	g := r.opts.Generate
	if len(g.Roots) == 0 {
		return nil
	}
	for _, root := range g.Roots {
		fi, err := os.Stat(root)
		if err != nil {
			return &edrpolicy.OptionError{Field: "Roots", Value: root, Reason: err.Error(), Err: err}
		}
		if !fi.IsDir() {
			return &edrpolicy.OptionError{Field: "Roots", Value: root, Reason: "not a directory (give the install folder)"}
		}
	}
	inv, err := edrpolicy.Inspect(ctx, g.Roots, g.Inspect)
	if err != nil {
		return err
	}
	d := g.Decide
	r.localVer = r.explicit
	if r.localVer == "" {
		if dv, err := edrpolicy.DetectVersion(inv, d.Profile, d.OS); err == nil {
			r.localVer = normVersion(dv.Version)
		} else if errors.Is(err, edrpolicy.ErrUnverifiedVersion) {
			return &edrpolicy.OptionError{Field: "AppVersion", Value: edrpolicy.VersionAuto, Reason: err.Error(), Err: err}
		}
	}
	paths := d.InstallPaths
	if len(paths) == 0 {
		if paths, err = r.localInstallPaths(inv); err != nil {
			return err
		}
	}
	r.m.AddLocal(inv, paths)
	for _, u := range edrpolicy.UnreadFiles(inv) {
		r.partial = true
		r.warnings = append(r.warnings, edrpolicy.Warning{Code: edrpolicy.WarnUnreadable, Files: []string{u.Name},
			Message: fmt.Sprintf("%s could not be read (%s): it lends no reference evidence; this policy was built from a partial read", u.Name, u.Reason)})
	}
	return nil
}

// localInstallPaths maps the roots of this run's own inspection to the profile's install
// folders for its version (edrpolicy.InstallPaths): a version the inspection does not give, in
// a profile whose paths depend on it, is an error rather than every era's folders.
func (r *fleetRun) localInstallPaths(inv *edrpolicy.Inventory) (map[string][]string, error) {
	d := r.opts.Generate.Decide
	q := edrpolicy.InstallQuery{Profile: d.Profile, Product: d.Product, OS: d.OS, Install: d.Install, Inventory: inv, Version: versionOf(r.localVer)}
	if d.AssumePaths != "" {
		v, err := profile.ParseVersion(d.AssumePaths)
		if err != nil {
			return nil, &edrpolicy.OptionError{Field: "AssumePaths", Value: d.AssumePaths, Reason: err.Error(), Err: err}
		}
		q.AssumePaths = v
	}
	paths, err := edrpolicy.InstallPaths(q)
	if err != nil {
		return nil, fmt.Errorf("the install paths of the inspected roots: %w", err)
	}
	return paths, nil
}

// read reads every evidence source into the merger.
func (r *fleetRun) read(ctx context.Context) error {
	for _, src := range r.opts.Evidence {
		if err := ctx.Err(); err != nil {
			return err
		}
		st, err := Read(src, r.opts.Read, r.m.Add)
		fs := edrpolicy.FleetSource{File: src.Name, Rows: st.Rows, Errors: st.ErrorCount, Format: strings.Join(st.Formats, "+")}
		r.rows += st.Rows
		for _, e := range st.Errors {
			r.evidenceError(e.Error(), src.Name)
		}
		if n := st.ErrorCount - len(st.Errors); n > 0 {
			r.evidenceError(fmt.Sprintf("%s: %d more bad rows or lines (the first %d are listed)", src.Name, n, len(st.Errors)), src.Name)
		}
		if err != nil {
			fs.Errors++
			r.evidenceError(err.Error()+": the rest of this file was not read", src.Name)
		}
		if st.Clipped {
			r.evidenceError(src.Name+": the Fleet report says report_clipped: Fleet stopped storing rows, so not every host's results are in it", src.Name)
		}
		r.sources = append(r.sources, fs)
	}
	return nil
}

func (r *fleetRun) evidenceError(msg, file string) {
	r.partial = true
	r.warnings = append(r.warnings, edrpolicy.Warning{Code: WarnEvidence, Message: msg, Files: []string{file}})
}

func (r *fleetRun) errorHint() string {
	for _, w := range r.warnings {
		if w.Code == WarnEvidence {
			return "; first error: " + w.Message
		}
	}
	return ""
}

// decide assigns versions, decides each covered version and assembles the policy.
func (r *fleetRun) decide() (*edrpolicy.Policy, error) {
	m := r.m
	versions, unknown := m.hostVersions()
	if len(unknown) > 0 {
		var set HostSet
		for _, h := range unknown {
			set.Add(h)
		}
		r.warnings = append(r.warnings, m.finding(WarnVersionUnknown, fmt.Sprintf("%d host(s) report no application version (no row of a version source the profile names): their rows are not counted; collect the version query of the pack (edrpolicy osquery-pack) or inspect evidence from them", len(unknown)), "", &set, allHosts(len(m.hostNames))))
	}
	current, err := r.classify(versions)
	if err != nil {
		return nil, err
	}
	r.noDigestWarning()
	if current.n == 0 && current.status == statusCurrent && !contains(versions, current) {
		versions = append([]*version{current}, versions...)
	}
	var decided []decidedVersion
	for _, v := range versions {
		if v.status == statusOutlier {
			continue
		}
		dv, err := r.decideVersion(v, v == current)
		if err != nil {
			return nil, err
		}
		decided = append(decided, dv)
	}
	return r.assemble(decided, versions)
}

// noDigestWarning names the files the hosts reported without any SHA-256.
func (r *fleetRun) noDigestWarning() {
	var files []string
	for _, pe := range r.m.paths {
		if pe.noDigest && len(pe.digests) == 0 {
			files = append(files, pe.display)
		}
	}
	if len(files) == 0 {
		return
	}
	sort.Strings(files)
	n := len(files)
	if n > MaxListedHosts {
		files = files[:MaxListedHosts]
	}
	r.warnings = append(r.warnings, edrpolicy.Warning{Code: WarnNoDigest, Files: files,
		Message: fmt.Sprintf("%d file(s) are reported without a SHA-256 by every host (osquery hashes files up to its --read_max flag, 50 MiB by default, and skips unreadable ones): no rule covers them; raise --read_max in the osquery flags", n)})
}

// Version statuses (FleetVersion.Status).
const (
	statusCurrent = "current"
	statusCovered = "covered"
	statusOutlier = "outlier"
)

// classify marks each version current, covered or outlier and returns the current one.
func (r *fleetRun) classify(versions []*version) (*version, error) {
	known := 0
	for _, v := range versions {
		known += v.n
	}
	var current *version
	for _, v := range versions {
		switch {
		case v.name == "":
			// A fleet that names no version: the hosts run --app-version, or the version of
			// this run's own inspection.
			v.name, v.v = r.versionFor(), versionOf(r.versionFor())
			v.status, current = statusCurrent, v
		case r.explicit != "" && v.name == r.explicit:
			v.status, current = statusCurrent, v
		case !r.t.ok(v.n, known):
			v.status = statusOutlier
			r.warnings = append(r.warnings, r.m.finding(WarnOutlier, fmt.Sprintf("version %s runs on %d of %d hosts (below %s): no rules for it", v.name, v.n, known, r.t), "", hostsOf(v.hosts), v.hosts))
		case current == nil && r.explicit == "":
			v.status, current = statusCurrent, v
		default:
			v.status = statusCovered
		}
	}
	if current != nil {
		if current.name == "" && versioned(r.opts.Generate.Decide.Profile, r.opts.Generate.Decide.OS) {
			return nil, &edrpolicy.OptionError{Field: "AppVersion", Value: edrpolicy.VersionAuto, Reason: "the evidence names no application version (no row of a version source the profile names, no root to read it from): give the version explicitly"}
		}
		return current, nil
	}
	if r.explicit != "" {
		// No host runs --app-version: the policy is for it all the same (and the others).
		r.warnings = append(r.warnings, edrpolicy.Warning{Code: WarnOutlier, Message: fmt.Sprintf("no host of the evidence runs the version given, %s: the policy has its folder rules and the other versions' rules", r.explicit)})
		return &version{name: r.explicit, v: versionOf(r.explicit), hosts: newMask(len(r.m.hostNames)), status: statusCurrent}, nil
	}
	var seen []string
	for _, v := range versions {
		seen = append(seen, fmt.Sprintf("%s on %d", v.name, v.n))
	}
	return nil, fmt.Errorf("no application version runs on enough hosts (%s; of %d hosts: %s): lower the thresholds, or give the version explicitly", r.t, known, strings.Join(seen, ", "))
}

func (r *fleetRun) versionFor() string {
	if r.explicit != "" {
		return r.explicit
	}
	return r.localVer
}

func contains(list []*version, v *version) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func versioned(p *profile.Profile, os profile.OS) bool {
	for _, r := range p.Paths {
		if r.OS == os && !r.Versions.All() {
			return true
		}
	}
	return false
}

func hostsOf(m mask) *HostSet {
	var s HostSet
	for w, word := range m {
		for b := 0; word != 0; b++ {
			if word&1 != 0 {
				s.Add(uint32(w*64 + b))
			}
			word >>= 1
		}
	}
	return &s
}

func allHosts(n int) mask {
	m := newMask(n)
	for i := range n {
		m.set(uint32(i))
	}
	return m
}

// sortedNames is for tests and messages.
func sortedNames(names []string) []string {
	out := append([]string(nil), names...)
	sort.Strings(out)
	return out
}
