package edrpolicy

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

func TestDefaultRiskLists(t *testing.T) {
	_, err := ParseRiskySigners(riskySignersJSON)
	require.NoError(t, err, "the embedded list parses strictly")
	rs := DefaultRiskySigners()
	require.GreaterOrEqual(t, len(rs.Signers), 8)
	ids := map[string]bool{}
	for _, s := range rs.Signers {
		assert.False(t, ids[s.ID], "id %s twice", s.ID)
		ids[s.ID] = true
		assert.NotEmpty(t, s.Title, s.ID)
		assert.NotEmpty(t, s.Sources, s.ID)
	}
	in := DefaultInterpreters()
	require.GreaterOrEqual(t, len(in.Entries), 20)
	names := map[string]bool{}
	for _, e := range in.Entries {
		assert.Contains(t, []string{"interpreter", "lolbin"}, e.Kind)
		assert.NotEmpty(t, e.Sources, e.Names)
		for _, n := range e.Names {
			assert.Equal(t, strings.ToLower(n), n)
			require.NotNil(t, in.MatchName(n+".exe"), n)
			assert.Equal(t, n, in.MatchName(n+".exe").Name, "a listed name matches itself")
			assert.False(t, names[n], "%s listed twice", n)
			names[n] = true
		}
	}
	for _, n := range []string{"powershell", "pwsh", "cmd", "wscript", "cscript", "mshta", "rundll32", "regsvr32", "msbuild", "installutil", "python", "node", "java", "javaw", "bash", "sh", "zsh", "osascript", "perl", "ruby", "php", "lua"} {
		assert.True(t, names[n], "the issue's %s", n)
	}
}

func TestParseRiskySignersRefuses(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown key":    `{"schema_version":1,"signers":[{"id":"x","reason":"r","sources":["s"],"match":{"organization_any":["X"]},"extra":1}]}`,
		"no source":      `{"schema_version":1,"signers":[{"id":"x","reason":"r","match":{"organization_any":["X"]}}]}`,
		"no reason":      `{"schema_version":1,"signers":[{"id":"x","sources":["s"],"match":{"organization_any":["X"]}}]}`,
		"empty match":    `{"schema_version":1,"signers":[{"id":"x","reason":"r","sources":["s"],"match":{}}]}`,
		"no id":          `{"schema_version":1,"signers":[{"reason":"r","sources":["s"],"match":{"organization_any":["X"]}}]}`,
		"schema":         `{"schema_version":2,"signers":[]}`,
		"unknown fact":   `{"schema_version":1,"signers":[{"id":"x","reason":"r","sources":["s"],"match":{"subject_any":["X"]}}]}`,
		"not json":       `signers: x`,
		"trailing comma": `{"schema_version":1,"signers":[],}`,
	} {
		_, err := ParseRiskySigners([]byte(doc))
		assert.Error(t, err, name)
	}
}

func riskCert(cn, org, issuer string, eku, apple []string) *signers.Certificate {
	return &signers.Certificate{Subject: "CN=" + cn + ",O=" + org, CommonName: cn, Organization: org, Issuer: issuer, ExtKeyUsage: eku, AppleExtensions: apple}
}

func TestRiskySignerMatch(t *testing.T) {
	rs := DefaultRiskySigners()
	msPCA := "CN=Microsoft Code Signing PCA 2011,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US"
	for _, tc := range []struct {
		name string
		c    *signers.Certificate
		want string // entry id, "" for none
	}{
		// The corpus's real Microsoft leaf (conpty.dll, OpenConsole.exe).
		{"microsoft product leaf", riskCert("Microsoft Corporation", "Microsoft Corporation", msPCA, []string{"code-signing"}, nil), "microsoft-product-signing"},
		{"case and spacing", riskCert("MICROSOFT CORPORATION", " microsoft corporation ", strings.ToLower(msPCA), nil, nil), "microsoft-product-signing"},
		{"windows component EKU", riskCert("Microsoft Windows", "Microsoft Corporation", "CN=Microsoft Windows Production PCA 2011,O=Microsoft Corporation", []string{"code-signing", "1.3.6.1.4.1.311.10.3.6"}, nil), "windows-component"},
		{"windows production PCA without the EKU", riskCert("Microsoft Windows Publisher", "Microsoft Corporation", "CN=Microsoft Windows Production PCA 2011,O=Microsoft Corporation", nil, nil), "windows-production-pca"},
		{"third-party component", riskCert("Some Vendor", "Some Vendor", "CN=Microsoft Windows Third Party Component CA 2014,O=Microsoft Corporation", nil, nil), "windows-third-party-component"},
		{"apple platform", riskCert("Software Signing", "Apple Inc.", "CN=Apple Code Signing Certification Authority,O=Apple Inc.", nil, []string{"1.2.840.113635.100.6.22"}), "apple-platform"},
		{"apple software signing by name", riskCert("Software Signing", "Apple Inc.", "CN=Apple Code Signing Certification Authority,O=Apple Inc.", nil, nil), "apple-software-signing"},
		{"mac app store", riskCert("Apple Mac OS Application Signing", "Apple Inc.", "CN=Apple Worldwide Developer Relations Certification Authority", nil, []string{"1.2.840.113635.100.6.1.9"}), "apple-mac-app-store"},
		{"signpath", riskCert("SignPath Foundation", "SignPath Foundation", "CN=Certum Code Signing 2021 CA", nil, nil), "signpath-foundation"},
		// Not risky: an ordinary vendor, Microsoft's name under another issuer (a self-made
		// certificate is not Microsoft's product signing), a Developer ID leaf.
		{"vendor", riskCert("Code42 Software, Inc.", "Code42 Software, Inc.", "CN=DigiCert Trusted G4 Code Signing RSA4096 SHA384 2021 CA1", nil, nil), ""},
		{"microsoft name, other issuer", riskCert("Microsoft Corporation", "Microsoft Corporation", "CN=Microsoft Corporation,O=Microsoft Corporation", nil, nil), ""},
		{"developer id", riskCert("Developer ID Application: X (ABCDE12345)", "X", "CN=Developer ID Certification Authority", nil, []string{"1.2.840.113635.100.6.1.13"}), ""},
		{"nil", nil, ""},
	} {
		got := rs.Match(tc.c)
		if tc.want == "" {
			assert.Nil(t, got, tc.name)
			continue
		}
		require.NotNil(t, got, tc.name)
		assert.Equal(t, tc.want, got.ID, tc.name)
	}
	// A user's list extends the built-in one.
	more, err := ParseRiskySigners([]byte(`{"schema_version":1,"signers":[{"id":"ours","title":"Our shared signer","reason":"signs every team's tools","sources":["internal PKI wiki"],"match":{"organization_any":["Example Corp"],"organizational_unit_any":["Build Service"]}}]}`))
	require.NoError(t, err)
	rs.Add(more)
	c := riskCert("Build", "Example Corp", "CN=Example CA", nil, nil)
	assert.Nil(t, rs.Match(c), "every fact must match: no OU")
	c.OrganizationalUnits = []string{"Build Service"}
	require.NotNil(t, rs.Match(c))
	assert.Equal(t, "ours", rs.Match(c).ID)
}

func TestImitation(t *testing.T) {
	rs := DefaultRiskySigners()
	self := riskCert("Microsoft Corporation", "Microsoft Corporation", "", nil, nil)
	self.Issuer = self.Subject
	sig := func(c *signers.Certificate, chain signers.Chain) *signers.Signature {
		return &signers.Signature{Kind: signers.KindAuthenticode, Status: signers.StatusValid, Chain: chain, Signer: c}
	}
	assert.Equal(t, "IMITATION: self-signed, claims Microsoft Corporation product signing (Microsoft Code Signing PCA)", rs.Imitation(sig(self, signers.ChainUnknownRoot)))
	genuine := riskCert("Microsoft Corporation", "Microsoft Corporation", "CN=Microsoft Code Signing PCA 2011,O=Microsoft Corporation", nil, nil)
	assert.Contains(t, rs.Imitation(sig(genuine, signers.ChainUnknownRoot)), "UNVERIFIED claim: Microsoft Corporation product signing")
	assert.Contains(t, rs.Imitation(sig(genuine, signers.ChainUntrusted)), "chain untrusted")
	assert.Empty(t, rs.Imitation(sig(genuine, signers.ChainTrusted)), "a verified chain is not flagged")
	apple := riskCert("Software Signing", "Apple Inc.", "CN=Software Signing,O=Apple Inc.", nil, nil)
	apple.Subject = apple.Issuer
	assert.Contains(t, rs.Imitation(sig(apple, signers.ChainUnknownRoot)), "IMITATION: self-signed, claims Apple")
	assert.Empty(t, rs.Imitation(sig(vendorCert, signers.ChainUnknownRoot)), "an ordinary vendor name")
	assert.Empty(t, rs.Imitation(&signers.Signature{Chain: signers.ChainUnknownRoot}))
}

func TestInterpreterMatch(t *testing.T) {
	in := DefaultInterpreters()
	pe := func(path, orig string) *FileEvidence {
		f := &FileEvidence{Path: path, Format: hashing.FormatPE}
		if orig != "" {
			f.PE = &signers.PEInfo{Version: &signers.PEVersion{OriginalFilename: orig}}
		}
		return f
	}
	macho := func(path, signingID string) *FileEvidence {
		return &FileEvidence{Path: path, Format: hashing.FormatMachO, Signatures: []signers.Signature{{Kind: signers.KindApple, SigningID: signingID}}}
	}
	for _, tc := range []struct {
		f        *FileEvidence
		name, by string
	}{
		{pe("resources/app/node.exe", ""), "node", "file name node.exe"},
		{pe("bin/NODE.EXE", ""), "node", "file name NODE.EXE"},
		{pe("bin/node", ""), "node", "file name node"},
		{pe("tools/python3.12", ""), "python", "file name python3.12"},
		{pe("tools/pythonw.exe", ""), "pythonw", "file name pythonw.exe"},
		{pe("jre/bin/javaw.exe", ""), "javaw", "file name javaw.exe"},
		{pe("WindowsPowerShell/v1.0/powershell.exe", ""), "powershell", "file name powershell.exe"},
		{pe("x/MSBuild.exe", ""), "msbuild", "file name MSBuild.exe"},
		{pe(`sub\rundll32.exe`, ""), "rundll32", `file name rundll32.exe`},
		// Renamed copies: the version resource or the signing identifier gives them away.
		{pe("bin/helper.exe", "node.exe"), "node", "PE OriginalFilename node.exe"},
		{pe("bin/updater.exe", "PowerShell.EXE.MUI"), "powershell", "PE OriginalFilename PowerShell.EXE.MUI"},
		{pe("bin/agent.exe", "Cmd.Exe"), "cmd", "PE OriginalFilename Cmd.Exe"},
		{macho("Contents/MacOS/helper", "com.apple.python3"), "python", "signing identifier com.apple.python3"},
		{macho("bin/tool", "bun"), "bun", "signing identifier bun"},
		{macho("bin/runner", "org.nodejs.node"), "node", "signing identifier org.nodejs.node"},
		{macho("usr/bin/x", "com.apple.osascript"), "osascript", "signing identifier com.apple.osascript"},
	} {
		m := in.Match(tc.f)
		require.NotNil(t, m, tc.f.Path)
		assert.Equal(t, tc.name, m.Name, tc.f.Path)
		assert.Equal(t, tc.by, m.By, tc.f.Path)
	}
	for _, f := range []*FileEvidence{
		pe("CrashPlanService.exe", "CrashPlanService.exe"), pe("shell32.dll", ""), pe("nodemon.exe", ""), pe("setup.sh.bak", ""),
		pe("java-helper.exe", ""), pe("bashrc", ""), pe("cmdline.exe", ""), pe("python-launcher-helper", ""),
		macho("bin/tool", "com.example.node-helper"), macho("bin/tool", ""), pe("lib/libpython3.11.so", ""),
	} {
		assert.Nil(t, in.Match(f), "%s %v", f.Path, f.Signatures)
	}
}

// Decide: an interpreter gets no rule without Force (warning, files named), with Force its
// rule says what it allows; a renamed copy is found by its OriginalFilename.
func TestDecideInterpreters(t *testing.T) {
	inv := &Inventory{Files: []FileEvidence{
		peFile("/tmp/inst", "CrashPlanService.exe", h('a'), signers.StatusUnsigned),
		peFile("/tmp/inst", "resources/node.exe", h('b'), signers.StatusUnsigned),
		peFile("/tmp/inst", "bin/helper.exe", h('c'), signers.StatusValid, authSig(vendorCert, signers.StatusValid, signers.ChainTrusted, false)),
	}}
	inv.Files[2].PE.Version.OriginalFilename = "pwsh.dll"
	for _, level := range []Criterion{CriterionHash, CriterionSigner, CriterionPath} {
		pol, err := Decide(inv, winOpts(t, level))
		require.NoError(t, err, level)
		var files []string
		for _, r := range pol.Rules {
			if r.Role == "executable" {
				files = append(files, r.Files...)
			}
		}
		assert.Equal(t, []string{pf + "CrashPlanService.exe"}, files, level)
		w := warningOf(pol, WarnInterpreter)
		require.NotNil(t, w, level)
		assert.Equal(t, []string{pf + `bin\helper.exe`, pf + `resources\node.exe`}, w.Files, level)
		assert.Contains(t, w.Message, "node (file name node.exe)", level)
		assert.Contains(t, w.Message, "pwsh (PE OriginalFilename pwsh.dll)", level)
		assert.Equal(t, 3, pol.Summary.Files, "every executable is counted")

		opts := winOpts(t, level)
		opts.Force = true
		pol, err = Decide(inv, opts)
		require.NoError(t, err)
		assert.Nil(t, warningOf(pol, WarnInterpreter))
		require.NotNil(t, warningOf(pol, WarnInterpreterForced), level)
		n := 0
		for _, r := range pol.Rules {
			if sharesFile(r.Files, []string{pf + `resources\node.exe`, pf + `bin\helper.exe`}) {
				n++
				assert.Contains(t, r.Reason, "allowed by an explicit override (forced), every script run with it is allowed too", level)
			}
		}
		assert.Equal(t, 2, n, level)
	}
}

func warningOf(p *Policy, code WarningCode) *Warning {
	for i := range p.Warnings {
		if p.Warnings[i].Code == code {
			return &p.Warnings[i]
		}
	}
	return nil
}

// Decide: a pinned signer on the risky list is refused (a RiskySignerError naming it, the
// reason and the sources); with Force it is kept with a warning; unpinned, its files get
// rules narrowed to them (not refused).
func TestDecideRiskySigner(t *testing.T) {
	ms := riskCert("Microsoft Corporation", "Microsoft Corporation", "CN=Microsoft Code Signing PCA 2011,O=Microsoft Corporation", []string{"code-signing"}, nil)
	ms.ThumbprintSHA1, ms.ThumbprintSHA256 = strings.Repeat("ab", 20), strings.Repeat("ab", 32)
	ms.NotBefore, ms.NotAfter, ms.KeyUsage = testNow.AddDate(-1, 0, 0), testNow.AddDate(1, 0, 0), []string{"digital-signature"}
	inv := &Inventory{Files: []FileEvidence{peFile("/tmp/inst", "conpty.dll", h('a'), signers.StatusValid, authSig(ms, signers.StatusValid, signers.ChainTrusted, false))}}
	opts := winOpts(t, CriterionSigner)
	opts.PinSigners = []string{ms.ThumbprintSHA1}
	_, err := Decide(inv, opts)
	var re *RiskySignerError
	require.True(t, errors.As(err, &re), "%v", err)
	require.Len(t, re.Refusals, 1)
	assert.Contains(t, err.Error(), "signer Microsoft Corporation (Microsoft Corporation product signing (Microsoft Code Signing PCA), thumbprint "+ms.ThumbprintSHA1+") refused: Microsoft's product-signing leaves")
	assert.Contains(t, err.Error(), "(or force the decision)")

	opts.Force = true
	pol, err := Decide(inv, opts)
	require.NoError(t, err)
	require.NotNil(t, warningOf(pol, WarnRiskySignerForced))
	assert.Contains(t, ruleByValue(t, pol, ms.ThumbprintSHA1).Reason, "pinned by an explicit override (forced)")

	opts.Force, opts.PinSigners = false, nil
	pol, err = Decide(inv, opts)
	require.NoError(t, err)
	assert.Equal(t, "CONPTY.DLL", ruleByValue(t, pol, ms.ThumbprintSHA1).FileName, "not pinned: narrowed to the file, not refused")
}
