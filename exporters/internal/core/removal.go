package core

import "github.com/edrpolicy/edrpolicy/edrpolicy/profile"

// Removal is the content of a vendor's removal file (`diff --vendor --out`, `generate
// --previous`): how to delete, in that vendor's console or API, the entries an upgrade no
// longer needs. Consoles delete by their own ids, which no exported file holds, so each step
// says how to find the id (Find) and how to delete by it (Delete).
type Removal struct {
	Vendor string `json:"vendor"`
	// Instructions are the steps in words, for the console and for the API.
	Instructions []string `json:"instructions"`
	// Unconfirmed lists what no primary source confirms about these requests.
	Unconfirmed []string `json:"unconfirmed,omitempty"`
	// Steps are one per entry to delete.
	Steps []RemovalStep `json:"steps"`
}

// RemovalStep deletes one entry.
type RemovalStep struct {
	// Type, Value and Platform are the entry, in the vendor's own values.
	Type     string     `json:"type"`
	Value    string     `json:"value"`
	Platform profile.OS `json:"platform,omitempty"`
	// Find is the request that returns the console id of the entry; Delete deletes by it
	// (the placeholder <id> stands for the id Find returns).
	Find   *APICall `json:"find,omitempty"`
	Delete *APICall `json:"delete,omitempty"`
	// Note says what to do when there is no request (a managed configuration redeployed).
	Note string `json:"note,omitempty"`
}

// APICall is one HTTP request of a vendor API (path relative to the tenant's API base URL).
type APICall struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Query  map[string]string `json:"query,omitempty"`
	Body   any               `json:"body,omitempty"`
}

// IDPlaceholder stands for the console id a Find request returns.
const IDPlaceholder = "<id>"
