package defender

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"regexp"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/signers/safeplist"
)

// File names the Defender exporter writes, for reading them back.
const (
	IndicatorsJSONFile = "defender-indicators.json"
	ScriptFile         = "defender-av-exclusions.ps1"
	ManagedFile        = "mdatp_managed.json"
	WDAVFile           = "com.microsoft.wdav.plist"
	// MobileconfigFile is the configuration profile a merge into an existing .mobileconfig
	// writes (generate --defender-merge); it reads like the plist.
	MobileconfigFile = "com.microsoft.wdav.mobileconfig"

	// Entry types of the antivirus exclusions (the indicator types are Defender's own:
	// FileSha256, FileSha1, FileMd5, CertificateThumbprint).
	TypeExclusionPath      = "ExclusionPath"
	TypeExclusionProcess   = "ExclusionProcess"
	TypeExclusionExtension = "ExclusionExtension"
	TypeExcludedPath       = "excludedPath"
	TypeExcludedFileName   = "excludedFileName"
	TypeExcludedExtension  = "excludedFileExtension"
	// TypeCertificateFile is a leaf certificate for the portal's certificate upload.
	TypeCertificateFile = "cer"

	channelPortal = "portal"
	channelAPI    = "api"
)

var (
	reCSVPart  = regexp.MustCompile(`^defender-indicators-[0-9]{3}\.csv$`)
	reJSONPart = regexp.MustCompile(`^defender-indicators-[0-9]{3}\.json$`)
	reCer      = regexp.MustCompile(`^defender-cert-[0-9]{3}\.cer$`)
)

// Owns reports whether name is a file the Defender exporter writes.
func (Exporter) Owns(name string) bool {
	switch name {
	case IndicatorsJSONFile, ScriptFile, ManagedFile, WDAVFile, MobileconfigFile:
		return true
	}
	return reCSVPart.MatchString(name) || reJSONPart.MatchString(name) || reCer.MatchString(name)
}

// Channel says which import route a file belongs to: the portal (indicator CSVs and .cer
// uploads) and the API (the indicator JSON bodies) are alternatives for the same indicators;
// the antivirus exclusion files ("") belong to both.
func (Exporter) Channel(name string) string {
	switch {
	case reCSVPart.MatchString(name), reCer.MatchString(name):
		return channelPortal
	case name == IndicatorsJSONFile, reJSONPart.MatchString(name):
		return channelAPI
	}
	return ""
}

// indicatorDigits is the hex length of each indicator type edrpolicy reads back.
var indicatorDigits = map[string]int{"FileSha256": 64, "FileSha1": 40, "FileMd5": 32, "CertificateThumbprint": 40}

// Parse reads a Defender file back into entries: indicators (CSV rows, API JSON), leaf
// certificates (.cer, DER or PEM), the Add-MpPreference exclusions of the PowerShell script
// (UTF-8, with or without a BOM), and the antivirus exclusions of mdatp_managed.json and of
// the com.microsoft.wdav plist or mobileconfig. Indicator types other than file hashes and
// certificate thumbprints, digests of the wrong length, exclusion types edrpolicy does not
// know and control characters in a value are errors: nothing broader than the file's text is
// read out of it.
func (Exporter) Parse(name string, data []byte) ([]core.Entry, error) {
	switch {
	case reCSVPart.MatchString(name):
		return parseCSV(name, data)
	case name == IndicatorsJSONFile, reJSONPart.MatchString(name):
		return parseIndicatorsJSON(name, data)
	case reCer.MatchString(name):
		return parseCer(name, data)
	case name == ScriptFile:
		return ParseScript(name, data)
	case name == ManagedFile:
		return parseManaged(name, data)
	case name == WDAVFile, name == MobileconfigFile:
		return parseWDAV(name, data)
	}
	return nil, fmt.Errorf("%s: not a file the %s exporter writes", name, Name)
}

func parseCSV(name string, data []byte) ([]core.Entry, error) {
	rows, err := core.ReadCSV(data, CSVHeader)
	if err != nil {
		return nil, err
	}
	out := make([]core.Entry, 0, len(rows))
	for i, row := range rows {
		if row[0] == "CertificateThumbprint" {
			return nil, fmt.Errorf("row %d: the portal's CSV import takes no CertificateThumbprint indicators", i+2)
		}
		e, err := indicatorEntry(name, row[0], row[1], row[3], row[2])
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i+2, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func parseIndicatorsJSON(name string, data []byte) ([]core.Entry, error) {
	var body ImportBody
	if err := core.DecodeJSON(data, &body); err != nil {
		return nil, err
	}
	if body.Indicators == nil {
		return nil, fmt.Errorf("no \"Indicators\" list")
	}
	out := make([]core.Entry, 0, len(body.Indicators))
	for i, ind := range body.Indicators {
		e, err := indicatorEntry(name, ind.IndicatorType, ind.IndicatorValue, ind.Action, ind.ExpirationTime)
		if err != nil {
			return nil, fmt.Errorf("indicator %d: %w", i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func indicatorEntry(file, typ, value, action, expires string) (core.Entry, error) {
	n := indicatorDigits[typ]
	if n == 0 {
		return core.Entry{}, fmt.Errorf("indicator type %s: edrpolicy writes only FileSha256, FileSha1, FileMd5 and CertificateThumbprint", core.Quote(typ))
	}
	v, err := core.ParseHexValue(value, n)
	if err != nil {
		return core.Entry{}, err
	}
	if _, err := core.ParseTime(expires); err != nil {
		return core.Entry{}, err
	}
	kind := core.EntryHash
	if typ == "CertificateThumbprint" {
		kind = core.EntryCertificate
	}
	return core.Entry{Vendor: Name, Kind: kind, Type: typ, Value: v, File: file, Action: action, Expires: expires}, nil
}

// parseCer reads a leaf certificate (DER, or PEM as the portal also takes) as a certificate
// entry whose value is its SHA-1 thumbprint.
func parseCer(name string, data []byte) ([]core.Entry, error) {
	if len(data) > core.MaxParseSize {
		return nil, fmt.Errorf("%d bytes: not a certificate", len(data))
	}
	der := data
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN")) {
		b, rest := pem.Decode(data)
		if b == nil || b.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) > 0 {
			return nil, fmt.Errorf("not one PEM certificate")
		}
		der = b.Bytes
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return nil, fmt.Errorf("not a certificate: %v", err)
	}
	sum := sha1.Sum(der)
	return []core.Entry{{Vendor: Name, Kind: core.EntryCertificate, Type: TypeCertificateFile, Value: hex.EncodeToString(sum[:]), Platform: profile.OSWindows, File: name}}, nil
}

// managedDoc is the part of mdatp_managed.json edrpolicy reads: the exclusions of the
// exclusionSettings block and of the older antivirusEngine block. Every other setting of a
// merged file is ignored.
type managedDoc struct {
	ExclusionSettings *struct {
		Exclusions []managedItem `json:"exclusions"`
	} `json:"exclusionSettings"`
	AntivirusEngine *struct {
		Exclusions []managedItem `json:"exclusions"`
	} `json:"antivirusEngine"`
}

// managedItem is one macOS or Linux antivirus exclusion.
type managedItem struct {
	Type        string `json:"$type" plist:"$type"`
	Path        string `json:"path" plist:"path"`
	IsDirectory *bool  `json:"isDirectory" plist:"isDirectory"`
	Extension   string `json:"extension" plist:"extension"`
	Name        string `json:"name" plist:"name"`
}

func parseManaged(name string, data []byte) ([]core.Entry, error) {
	var doc managedDoc
	if err := core.DecodeJSON(data, &doc); err != nil {
		return nil, err
	}
	var items []managedItem
	if doc.ExclusionSettings != nil {
		items = append(items, doc.ExclusionSettings.Exclusions...)
	}
	if doc.AntivirusEngine != nil {
		items = append(items, doc.AntivirusEngine.Exclusions...)
	}
	return managedEntries(name, profile.OSLinux, items)
}

// wdavDoc is a com.microsoft.wdav preference domain, or a configuration profile whose
// PayloadContent holds one.
type wdavDoc struct {
	AntivirusEngine *struct {
		Exclusions []managedItem `plist:"exclusions"`
	} `plist:"antivirusEngine"`
	PayloadContent []wdavProfilePayload `plist:"PayloadContent"`
}

type wdavProfilePayload struct {
	PayloadType     string `plist:"PayloadType"`
	AntivirusEngine *struct {
		Exclusions []managedItem `plist:"exclusions"`
	} `plist:"antivirusEngine"`
}

func parseWDAV(name string, data []byte) ([]core.Entry, error) {
	if len(data) > core.MaxParseSize {
		return nil, fmt.Errorf("%d bytes: larger than the %d a vendor file may have", len(data), core.MaxParseSize)
	}
	var doc wdavDoc
	if _, err := safeplist.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not the expected property list: %v", err)
	}
	var items []managedItem
	if doc.AntivirusEngine != nil {
		items = append(items, doc.AntivirusEngine.Exclusions...)
	}
	for _, p := range doc.PayloadContent {
		if p.PayloadType == "com.microsoft.wdav" && p.AntivirusEngine != nil {
			items = append(items, p.AntivirusEngine.Exclusions...)
		}
	}
	return managedEntries(name, profile.OSMac, items)
}

func managedEntries(file string, platform profile.OS, items []managedItem) ([]core.Entry, error) {
	out := make([]core.Entry, 0, len(items))
	for i, it := range items {
		e := core.Entry{Vendor: Name, Kind: core.EntryPath, Type: it.Type, Platform: platform, File: file}
		switch it.Type {
		case TypeExcludedPath:
			e.Value, e.Match = it.Path, edrpolicy.MatchFile
			if it.IsDirectory != nil && *it.IsDirectory {
				e.Match = edrpolicy.MatchSubfolders
			}
		case TypeExcludedFileName:
			e.Value = it.Name
		case TypeExcludedExtension:
			e.Value = it.Extension
		default:
			return nil, fmt.Errorf("exclusion %d: $type %s: want excludedPath, excludedFileName or excludedFileExtension", i+1, core.Quote(it.Type))
		}
		if err := core.PlainEntryValue(e.Value); err != nil {
			return nil, fmt.Errorf("exclusion %d: %w", i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}
