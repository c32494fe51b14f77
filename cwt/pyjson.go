package cwt

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
)

// The DataInputs JSON is written byte for byte as Python's json.dumps writes
// it with its defaults, so that a request from this package and one from the
// Python cwt client are the same text: separators ", " and ": ", keys in
// insertion order, every character outside printable ASCII escaped as \uXXXX
// (surrogate pairs above U+FFFF), and floats as Python's repr prints them.
// encoding/json differs on all of these (it escapes <, > and &, keeps UTF-8,
// and prints 90.0 as 90).

// pyObject is a JSON object whose keys keep their order.
type pyObject []pyMember

type pyMember struct {
	Key   string
	Value any
}

func (o pyObject) set(key string, value any) pyObject {
	for i := range o {
		if o[i].Key == key {
			o[i].Value = value
			return o
		}
	}
	return append(o, pyMember{key, value})
}

// pyDumps encodes v, which may hold pyObject, []any, []string, string,
// int, int64, float64 and bool.
func pyDumps(v any) (string, error) {
	var b strings.Builder
	if err := pyEncode(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

func pyEncode(b *strings.Builder, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case pyObject:
		b.WriteByte('{')
		for i, m := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyString(b, m.Key)
			b.WriteString(": ")
			if err := pyEncode(b, m.Value); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := pyEncode(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case []string:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			pyString(b, e)
		}
		b.WriteByte(']')
	case string:
		pyString(b, x)
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%v is not a number JSON can hold", x)
		}
		b.WriteString(pyFloat(x))
	default:
		return fmt.Errorf("cannot encode %T", v)
	}
	return nil
}

// pyString writes s as Python's json.dumps(ensure_ascii=True) does.
func pyString(b *strings.Builder, s string) {
	const hex = "0123456789abcdef"
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r <= 0x7e:
			b.WriteRune(r)
		default:
			units := []uint16{uint16(r)}
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				units = []uint16{uint16(r1), uint16(r2)}
			}
			for _, u := range units {
				b.WriteString(`\u`)
				b.WriteByte(hex[u>>12&0xf])
				b.WriteByte(hex[u>>8&0xf])
				b.WriteByte(hex[u>>4&0xf])
				b.WriteByte(hex[u&0xf])
			}
		}
	}
	b.WriteByte('"')
}

// pyFloat formats f as Python's repr(float): the shortest digits that read
// back as f, in positional notation when the decimal exponent is in
// [-4, 16) (always with a fractional part, "90.0"), otherwise as d.ddde±XX.
func pyFloat(f float64) string {
	if math.IsInf(f, 1) {
		return "inf"
	}
	if math.IsInf(f, -1) {
		return "-inf"
	}
	if math.IsNaN(f) {
		return "nan"
	}
	sci := strconv.FormatFloat(f, 'e', -1, 64) // -d.ddde±XX
	_, expText, _ := strings.Cut(sci, "e")
	exp, _ := strconv.Atoi(expText)
	if exp < -4 || exp >= 16 {
		return sci
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyStr formats a parameter value as Python's str() does for the types a
// caller may pass.
func pyStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		return pyFloat(x)
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}
