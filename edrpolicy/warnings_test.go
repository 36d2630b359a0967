package edrpolicy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// codeLiteral is a warning code written as a string literal outside a WarningCode constant.
type codeLiteral struct {
	pos  string
	text string
}

// scanWarningCodes parses every non-test Go file under root and returns the WarningCode
// constants it declares (value → declaring positions) and every warning code written as a
// literal: the Code field of a Warning composite literal, or a comparison of a .Code with a
// string literal.
func scanWarningCodes(t *testing.T, root string) (map[string][]string, []codeLiteral) {
	t.Helper()
	consts := map[string][]string{}
	var lits []codeLiteral
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if isWarningCodeType(n.Type) {
					for _, v := range n.Values {
						if s, ok := stringLit(v); ok {
							consts[s] = append(consts[s], fset.Position(v.Pos()).String())
						}
					}
				}
			case *ast.CompositeLit:
				var warnings []*ast.CompositeLit
				if isWarningType(n.Type) {
					warnings = append(warnings, n)
				}
				if elt := elementType(n.Type); elt != nil && isWarningType(elt) {
					// []Warning{{Code: ...}}: the elements' type is elided.
					for _, el := range n.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							el = kv.Value
						}
						if c, ok := el.(*ast.CompositeLit); ok && c.Type == nil {
							warnings = append(warnings, c)
						}
					}
				}
				for _, w := range warnings {
					for _, el := range w.Elts {
						kv, ok := el.(*ast.KeyValueExpr)
						if !ok {
							continue
						}
						if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Code" {
							if s, ok := stringLit(kv.Value); ok {
								lits = append(lits, codeLiteral{fset.Position(kv.Value.Pos()).String(), s})
							}
						}
					}
				}
			case *ast.BinaryExpr:
				if n.Op == token.EQL || n.Op == token.NEQ {
					for _, pair := range [][2]ast.Expr{{n.X, n.Y}, {n.Y, n.X}} {
						if sel, ok := pair[0].(*ast.SelectorExpr); ok && sel.Sel.Name == "Code" {
							if s, ok := stringLit(pair[1]); ok {
								lits = append(lits, codeLiteral{fset.Position(n.Pos()).String(), s})
							}
						}
					}
				}
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	return consts, lits
}

func isWarningCodeType(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "WarningCode"
	case *ast.SelectorExpr:
		return e.Sel.Name == "WarningCode"
	}
	return false
}

// elementType is the element type of an array, slice or map type expression, or nil.
func elementType(e ast.Expr) ast.Expr {
	switch e := e.(type) {
	case *ast.ArrayType:
		return e.Elt
	case *ast.MapType:
		return e.Value
	}
	return nil
}

func isWarningType(e ast.Expr) bool {
	switch e := e.(type) {
	case *ast.Ident:
		return e.Name == "Warning"
	case *ast.SelectorExpr:
		return e.Sel.Name == "Warning"
	}
	return false
}

func stringLit(e ast.Expr) (string, bool) {
	b, ok := e.(*ast.BasicLit)
	if !ok || b.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(b.Value)
	return s, err == nil
}

// Every warning code the module emits is a WarningCode constant: no Warning is built with a
// literal code, no code is compared with a literal, and no two constants share a value.
func TestWarningCodesAreConstants(t *testing.T) {
	consts, lits := scanWarningCodes(t, "..")
	for _, l := range lits {
		assert.Failf(t, "warning code literal", "%s: code %q written as a literal: use its WarningCode constant", l.pos, l.text)
	}
	for code, where := range consts {
		assert.Len(t, where, 1, "warning code %q declared more than once: %v", code, where)
	}
	for _, want := range []WarningCode{WarnGuardrailForced, WarnInterpreterForced, WarnUnreadable} {
		assert.Contains(t, consts, string(want))
	}
}

// The scan itself finds what it is meant to find.
func TestScanWarningCodesFindsLiterals(t *testing.T) {
	dir := t.TempDir()
	src := `package x

type WarningCode string
type Warning struct{ Code WarningCode }

const WarnA WarningCode = "a"

func f(w Warning) []Warning {
	if w.Code == "b" {
		return nil
	}
	return []Warning{{Code: "c"}, {Code: WarnA}}
}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x.go"), []byte(src), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x_test.go"), []byte("package x\n\nvar _ = Warning{Code: \"ignored\"}\n"), 0o600))
	consts, lits := scanWarningCodes(t, dir)
	assert.Equal(t, []string{"a"}, codeKeys(consts))
	var texts []string
	for _, l := range lits {
		texts = append(texts, l.text)
	}
	assert.ElementsMatch(t, []string{"b", "c"}, texts)
}

func codeKeys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
