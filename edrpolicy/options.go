package edrpolicy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// OptionError is an option value the library refuses: Decide, Generate, check.Run, the exporters
// and the vendors validate every option they are given, so that a misspelt value is an error
// rather than a setting silently ignored (Install "All-Users" once gave a policy without its
// scan exclusions). Field names the option as the caller's struct spells it ("Install",
// "Governance.Expires", "Roots"; a vendor's options are prefixed with the vendor type, as in
// "SentinelOne.Mode"), so that a program can map it to its own names: the CLI shows the flag
// (--install, --expires, --root, --s1-mode). Use errors.As to find it in a wrapped error.
type OptionError struct {
	// Field is the option: the field of the options struct, dotted for nested ones.
	Field string
	// Value is the value refused, as given ("" when the option was missing).
	Value string
	// Reason says what is wrong and what is wanted, without naming a flag.
	Reason string
	// Err is the underlying error, when there is one (a file that cannot be read, a version
	// that does not parse).
	Err error
}

// Error is `Field "Value": Reason`, or `Field: Reason` for a missing value.
func (e *OptionError) Error() string { return e.Named(e.Field) }

// Named is Error with the option called name (a flag, say) instead of Field.
func (e *OptionError) Named(name string) string {
	q := strconv.Quote(e.Value)
	if e.Value == "" || strings.HasPrefix(e.Reason, q) {
		// Missing, or the reason quotes the value itself.
		return name + ": " + e.Reason
	}
	return name + " " + q + ": " + e.Reason
}

// Unwrap returns the underlying error.
func (e *OptionError) Unwrap() error { return e.Err }

// OptionErrors returns every *OptionError in err's tree, in order: the ones it wraps and the
// ones joined in it (errors.Join, as exporters.ValidateOptions reports several faults at
// once), an option error that wraps another included. errors.As finds only the first.
func OptionErrors(err error) []*OptionError {
	var out []*OptionError
	var walk func(error)
	walk = func(e error) {
		for e != nil {
			if oe, ok := e.(*OptionError); ok {
				out = append(out, oe)
			}
			if j, ok := e.(interface{ Unwrap() []error }); ok {
				for _, c := range j.Unwrap() {
					walk(c)
				}
				return
			}
			e = errors.Unwrap(e)
		}
	}
	walk(err)
	return out
}

// optionErr is an OptionError whose reason is err's text.
func optionErr(field, value string, err error) *OptionError {
	var oe *OptionError
	if errors.As(err, &oe) {
		// Already an option error (a nested validation): keep its reason, name this field.
		return &OptionError{Field: field, Value: value, Reason: oe.Reason, Err: err}
	}
	return &OptionError{Field: field, Value: value, Reason: err.Error(), Err: err}
}

// optionf is an OptionError with a formatted reason.
func optionf(field, value, format string, args ...any) *OptionError {
	return &OptionError{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)}
}
