package edrpolicy

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOptionErrors(t *testing.T) {
	a := optionf("Install", "All-Users", "want all-users or per-user")
	b := optionErr("Governance.Expires", "soon", errors.New("not a date"))
	nested := optionErr("AssumePaths", "8.x", optionf("Version", "8.x", "not a version"))
	err := fmt.Errorf("decide: %w", errors.Join(a, fmt.Errorf("governance: %w", b), errors.New("other"), nested))

	var fields []string
	for _, oe := range OptionErrors(err) {
		fields = append(fields, oe.Field)
	}
	assert.Equal(t, []string{"Install", "Governance.Expires", "AssumePaths", "Version"}, fields)
	assert.Empty(t, OptionErrors(errors.New("plain")))
	assert.Empty(t, OptionErrors(nil))
	assert.Equal(t, `Install "All-Users": want all-users or per-user`, a.Error())
	assert.Equal(t, `--install "All-Users": want all-users or per-user`, a.Named("--install"))
}
