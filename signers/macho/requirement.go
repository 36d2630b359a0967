package macho

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// A decompiler for Apple's Code Requirement language: it turns the binary form of a
// requirement (what csreq -b writes and what a code signature's requirements slot holds) back
// into the text that codesign -d -r- prints, e.g.
//
//	identifier "com.example.app" and anchor apple generic and
//	certificate leaf[subject.OU] = "ABCDE12345"
//
// The binary form is a sequence of big-endian 32-bit words: an expression is an opcode
// followed by its operands in prefix order; strings and OIDs are a length word followed by
// the bytes, padded to a multiple of four. The opcode and match-operation numbers are those
// of the Security framework (requirement.h); the text follows its dumper (reqdumper.cpp).

// Requirement blob kinds (the word after the 0xfade0c00 blob header).
const reqKindExpr = 1

// Requirement opcodes. The top byte of an opcode word holds flags.
const (
	reqFalse              = 0  // never
	reqTrue               = 1  // always
	reqIdent              = 2  // identifier <string>
	reqAppleAnchor        = 3  // anchor apple
	reqAnchorHash         = 4  // certificate <slot> = H"<hash>"
	reqInfoKeyValue       = 5  // info[<key>] = <string> (legacy form)
	reqAnd                = 6  // <expr> and <expr>
	reqOr                 = 7  // <expr> or <expr>
	reqCDHash             = 8  // cdhash H"<hash>"
	reqNot                = 9  // ! <expr>
	reqInfoKeyField       = 10 // info[<key>] <match>
	reqCertField          = 11 // certificate <slot>[<field>] <match>
	reqTrustedCert        = 12 // certificate <slot> trusted
	reqTrustedCerts       = 13 // anchor trusted
	reqCertGeneric        = 14 // certificate <slot>[field.<oid>] <match>
	reqAppleGenericAnchor = 15 // anchor apple generic
	reqEntitlementField   = 16 // entitlement[<key>] <match>
	reqCertPolicy         = 17 // certificate <slot>[policy.<oid>] <match>
	reqNamedAnchor        = 18 // anchor apple <name>
	reqNamedCode          = 19 // (<name>)
	reqPlatform           = 20 // platform = <int32>
	reqNotarized          = 21 // notarized
	reqCertFieldDate      = 22 // certificate <slot>[timestamp.<oid>] <date match>
	reqLegacyDevID        = 23 // legacy

	reqFlagMask     = 0xff000000
	reqGenericFalse = 0x80000000 // unknown opcode with a length-prefixed operand: false
	reqGenericSkip  = 0x40000000 // unknown opcode with a length-prefixed operand: ignored
)

// Match operations of the field opcodes.
const (
	matchExists       = 0
	matchEqual        = 1
	matchContains     = 2
	matchBeginsWith   = 3
	matchEndsWith     = 4
	matchLessThan     = 5
	matchGreaterThan  = 6
	matchLessEqual    = 7
	matchGreaterEqual = 8
	matchOn           = 9
	matchBefore       = 10
	matchAfter        = 11
	matchOnOrBefore   = 12
	matchOnOrAfter    = 13
	matchAbsent       = 14
)

// Certificate slots: non-negative counts from the leaf, negative from the anchor.
const (
	certSlotLeaf   = 0
	certSlotAnchor = -1
)

// Syntax levels, from tightest to loosest binding; an operator is parenthesised when it
// appears where a tighter level is expected.
const (
	levelPrimary = iota
	levelAnd
	levelOr
	levelTop
)

// maxReqDepth bounds the nesting of and/or/not. Real requirements nest a few levels (Apple's
// longest platform requirements a few dozen); the bound keeps hostile input off the stack.
const maxReqDepth = 256

// reqEpoch is the origin of requirement dates (CFAbsoluteTime).
var reqEpoch = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// reqKeywords are the reserved words of the requirement language; a string operand equal to
// one of them (case-insensitively) is quoted, as Apple's dumper does, so that the text
// compiles back to the same requirement.
var reqKeywords = map[string]bool{
	"absent": true, "always": true, "and": true, "anchor": true, "apple": true, "cdhash": true,
	"cert": true, "certificate": true, "designated": true, "entitlement": true, "exists": true,
	"false": true, "generic": true, "guest": true, "host": true, "identifier": true, "info": true,
	"leaf": true, "legacy": true, "library": true, "never": true, "notarized": true, "or": true,
	"platform": true, "plugin": true, "root": true, "trusted": true, "true": true,
}

var errReqTruncated = errors.New("requirement: truncated")

// formatRequirement decompiles a requirement blob without its 8-byte header (magic
// 0xfade0c00 and length): a kind word, then the expression. Bytes after the expression are
// ignored (padding). Any malformed input gives an error, never a panic.
func formatRequirement(raw []byte) (string, error) {
	d := &reqDecoder{buf: raw}
	kind, err := d.word()
	if err != nil {
		return "", err
	}
	if kind != reqKindExpr {
		return "", fmt.Errorf("requirement: unsupported kind %d", kind)
	}
	if err := d.expr(levelTop, 0); err != nil {
		return "", err
	}
	return d.out.String(), nil
}

type reqDecoder struct {
	buf []byte
	out strings.Builder
}

func (d *reqDecoder) word() (uint32, error) {
	if len(d.buf) < 4 {
		return 0, errReqTruncated
	}
	v := binary.BigEndian.Uint32(d.buf)
	d.buf = d.buf[4:]
	return v, nil
}

// bytes reads a length-prefixed operand and skips its padding to a word boundary.
func (d *reqDecoder) bytes() ([]byte, error) {
	n, err := d.word()
	if err != nil {
		return nil, err
	}
	padded := (uint64(n) + 3) &^ 3
	if padded > uint64(len(d.buf)) {
		return nil, errReqTruncated
	}
	v := d.buf[:n]
	d.buf = d.buf[padded:]
	return v, nil
}

func (d *reqDecoder) print(s ...string) {
	for _, x := range s {
		d.out.WriteString(x)
	}
}

// expr decodes one expression at syntax level lvl.
func (d *reqDecoder) expr(lvl, depth int) error {
	if depth > maxReqDepth {
		return fmt.Errorf("requirement: nested deeper than %d", maxReqDepth)
	}
	w, err := d.word()
	if err != nil {
		return err
	}
	op := w &^ reqFlagMask
	if kw, ok := reqKeyword(op); ok {
		d.print(kw)
		return nil
	}
	switch op {
	case reqIdent, reqNamedAnchor, reqNamedCode, reqCDHash:
		return d.codeExpr(op)
	case reqAnchorHash, reqTrustedCert, reqCertField, reqCertGeneric, reqCertPolicy, reqCertFieldDate:
		return d.certExpr(op)
	case reqInfoKeyValue, reqInfoKeyField, reqEntitlementField:
		return d.keyExpr(op)
	case reqPlatform:
		n, err := d.word()
		if err != nil {
			return err
		}
		d.print("platform = ", strconv.Itoa(int(int32(n))))
		return nil
	case reqAnd, reqOr, reqNot:
		return d.logicExpr(op, lvl, depth)
	default:
		return d.unknownExpr(w, op)
	}
}

// reqKeyword returns the text of an opcode that takes no operand.
func reqKeyword(op uint32) (string, bool) {
	switch op {
	case reqFalse:
		return "never", true
	case reqTrue:
		return "always", true
	case reqAppleAnchor:
		return "anchor apple", true
	case reqAppleGenericAnchor:
		return "anchor apple generic", true
	case reqTrustedCerts:
		return "anchor trusted", true
	case reqNotarized:
		return "notarized", true
	case reqLegacyDevID:
		return "legacy", true
	}
	return "", false
}

// codeExpr decodes the operand of an opcode about the code itself: its identifier, a named
// Apple anchor, a named requirement or its CDHash.
func (d *reqDecoder) codeExpr(op uint32) error {
	switch op {
	case reqIdent:
		d.print("identifier ")
		return d.str(false)
	case reqNamedAnchor:
		d.print("anchor apple ")
		return d.str(false)
	case reqNamedCode:
		d.print("(")
		if err := d.str(false); err != nil {
			return err
		}
		d.print(")")
		return nil
	default: // reqCDHash
		d.print("cdhash ")
		return d.hash()
	}
}

// certExpr decodes the operands of an opcode about a certificate of the chain: its slot,
// then a hash, "trusted", or a field (by name or OID) and a match.
func (d *reqDecoder) certExpr(op uint32) error {
	d.print("certificate")
	if err := d.certSlot(); err != nil {
		return err
	}
	switch op {
	case reqAnchorHash:
		d.print(" = ")
		return d.hash()
	case reqTrustedCert:
		d.print(" trusted")
		return nil
	case reqCertField:
		d.print("[")
		if err := d.str(true); err != nil {
			return err
		}
		d.print("]")
		return d.match()
	case reqCertGeneric:
		d.print("[field.")
	case reqCertPolicy:
		d.print("[policy.")
	default: // reqCertFieldDate
		d.print("[timestamp.")
	}
	if err := d.oid(); err != nil {
		return err
	}
	d.print("]")
	return d.match()
}

// keyExpr decodes the operands of an Info.plist or entitlement key test: the key, then a
// string (the legacy info form) or a match.
func (d *reqDecoder) keyExpr(op uint32) error {
	if op == reqEntitlementField {
		d.print("entitlement[")
	} else {
		d.print("info[")
	}
	if err := d.str(true); err != nil {
		return err
	}
	if op == reqInfoKeyValue {
		d.print("] = ")
		return d.str(false)
	}
	d.print("]")
	return d.match()
}

// logicExpr decodes the operands of and, or (two expressions, parenthesised when the
// enclosing level lvl binds tighter) and ! (one expression).
func (d *reqDecoder) logicExpr(op uint32, lvl, depth int) error {
	if op == reqNot {
		d.print("! ")
		return d.expr(levelPrimary, depth+1)
	}
	name, own := " and ", levelAnd
	if op == reqOr {
		name, own = " or ", levelOr
	}
	if lvl < own {
		d.print("(")
	}
	if err := d.expr(own, depth+1); err != nil {
		return err
	}
	d.print(name)
	if err := d.expr(own, depth+1); err != nil {
		return err
	}
	if lvl < own {
		d.print(")")
	}
	return nil
}

// unknownExpr handles an opcode newer than this decoder: the flags of the opcode word w say
// whether the operand is length-prefixed and how an evaluator would treat it.
func (d *reqDecoder) unknownExpr(w, op uint32) error {
	switch {
	case w&reqGenericFalse != 0:
		d.print(" false /* opcode ", strconv.FormatUint(uint64(op), 10), " */")
	case w&reqGenericSkip != 0:
		d.print(" /* opcode ", strconv.FormatUint(uint64(op), 10), " */")
	default:
		return fmt.Errorf("requirement: unknown opcode %d", op)
	}
	_, err := d.bytes()
	return err
}

// certSlot prints a certificate position: leaf, root (the anchor) or a signed index.
func (d *reqDecoder) certSlot() error {
	w, err := d.word()
	if err != nil {
		return err
	}
	switch n := int32(w); n {
	case certSlotLeaf:
		d.print(" leaf")
	case certSlotAnchor:
		d.print(" root")
	default:
		d.print(" ", strconv.Itoa(int(n)))
	}
	return nil
}

// match prints a match operation and its operand.
func (d *reqDecoder) match() error {
	op, err := d.word()
	if err != nil {
		return err
	}
	switch op {
	case matchExists:
		d.print(" /* exists */")
		return nil
	case matchAbsent:
		d.print(" absent ")
		return nil
	case matchEqual:
		d.print(" = ")
	case matchContains:
		d.print(" ~ ")
	case matchBeginsWith:
		d.print(" = ")
		if err := d.str(false); err != nil {
			return err
		}
		d.print("*")
		return nil
	case matchEndsWith:
		d.print(" = *")
	case matchLessThan:
		d.print(" < ")
	case matchGreaterThan:
		d.print(" > ")
	case matchLessEqual:
		d.print(" <= ")
	case matchGreaterEqual:
		d.print(" >= ")
	case matchOn, matchBefore, matchAfter, matchOnOrBefore, matchOnOrAfter:
		d.print(map[uint32]string{matchOn: " = ", matchBefore: " < ", matchAfter: " > ",
			matchOnOrBefore: " <= ", matchOnOrAfter: " >= "}[op])
		return d.date()
	default:
		return fmt.Errorf("requirement: unknown match operation %d", op)
	}
	return d.str(false)
}

// str prints a string operand: bare when it is a simple word (letters and digits, not
// starting with a digit, dots allowed in keys), quoted when printable ASCII, hex otherwise.
func (d *reqDecoder) str(dotOK bool) error {
	v, err := d.bytes()
	if err != nil {
		return err
	}
	if len(v) == 0 {
		d.print(`""`)
		return nil
	}
	simple, printable := true, true
	for i, c := range v {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9':
			if i == 0 {
				simple = false
			}
		case c == '.' && dotOK:
		case c >= 0x20 && c < 0x7f:
			simple = false
		default:
			simple, printable = false, false
		}
	}
	if simple && reqKeywords[strings.ToLower(string(v))] {
		simple = false
	}
	switch {
	case simple:
		d.out.Write(v)
	case printable:
		d.out.WriteByte('"')
		for _, c := range v {
			if c == '"' || c == '\\' {
				d.out.WriteByte('\\')
			}
			d.out.WriteByte(c)
		}
		d.out.WriteByte('"')
	default:
		d.print("0x", hex.EncodeToString(v))
	}
	return nil
}

// hash prints a hash operand as H"<hex>".
func (d *reqDecoder) hash() error {
	v, err := d.bytes()
	if err != nil {
		return err
	}
	d.print(`H"`, hex.EncodeToString(v), `"`)
	return nil
}

// oid prints a DER-encoded object identifier body (no tag or length) in dotted form.
func (d *reqDecoder) oid() error {
	v, err := d.bytes()
	if err != nil {
		return err
	}
	if len(v) == 0 {
		return errors.New("requirement: empty OID")
	}
	first := true
	arc := new(big.Int)
	for i, c := range v {
		if arc.BitLen() > 256 {
			return errors.New("requirement: OID arc too large")
		}
		arc.Lsh(arc, 7).Or(arc, big.NewInt(int64(c&0x7f)))
		if c&0x80 != 0 {
			if i == len(v)-1 {
				return errors.New("requirement: truncated OID")
			}
			continue
		}
		if first {
			// The first subidentifier packs the first two arcs: 40*x + y, x in {0, 1, 2}.
			switch {
			case arc.Cmp(big.NewInt(80)) < 0:
				x := arc.Int64() / 40
				d.print(strconv.FormatInt(x, 10), ".", strconv.FormatInt(arc.Int64()-40*x, 10))
			default:
				d.print("2.", new(big.Int).Sub(arc, big.NewInt(80)).String())
			}
			first = false
		} else {
			d.print(".", arc.String())
		}
		arc.SetInt64(0)
	}
	return nil
}

// date prints a date operand: signed seconds since 2001-01-01 00:00:00 UTC, 64 bits.
func (d *reqDecoder) date() error {
	if len(d.buf) < 8 {
		return errReqTruncated
	}
	s := int64(binary.BigEndian.Uint64(d.buf))
	d.buf = d.buf[8:]
	const limit = 1 << 40 // ~35,000 years either way: keeps the Unix time from overflowing
	if s > limit || s < -limit {
		return fmt.Errorf("requirement: date %d out of range", s)
	}
	d.print(time.Unix(reqEpoch+s, 0).UTC().Format("<2006-01-02 15:04:05Z>"))
	return nil
}
