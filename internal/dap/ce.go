package dap

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// A DAP2 constraint expression is a projection, a comma-separated list of
// variables each optionally followed by one hyperslab per dimension, then
// selections introduced by '&', which this server does not support:
//
//	tas[0:1:9][10:20][5],lat,tas.lon[0:2:71]
//
// A hyperslab is [start], [start:stop] or [start:stride:stop], stop
// inclusive. Names may carry %XX escapes.

// maxCEText bounds how much of a client's text an error message repeats.
const maxCEText = 80

// index is one bracket of a hyperslab as written.
type index struct{ start, stride, stop int }

// term is one item of the projection.
type term struct {
	text  string  // the item as written, for messages
	ident string  // the name, still %-escaped, with its '.' separators
	slab  []index // nil: no brackets
}

// parseConstraint parses a decoded constraint expression. An empty one
// projects everything and gives no terms.
func parseConstraint(ce string) ([]term, error) {
	if strings.Contains(ce, "&") {
		return nil, errorf(http.StatusBadRequest, "selections are not supported: %s", quote(ce))
	}
	if strings.TrimSpace(ce) == "" {
		return nil, nil
	}
	items := strings.Split(ce, ",")
	terms := make([]term, 0, len(items))
	for _, item := range items {
		t, err := parseTerm(strings.TrimSpace(item))
		if err != nil {
			return nil, err
		}
		terms = append(terms, t)
	}
	return terms, nil
}

func malformed(text, format string, args ...any) error {
	return errorf(http.StatusBadRequest, "malformed constraint %s: %s", quote(text), fmt.Sprintf(format, args...))
}

// quote quotes a client's text for an error message, shortened.
func quote(s string) string {
	if len(s) > maxCEText {
		s = s[:maxCEText] + "..."
	}
	return strconv.Quote(s)
}

// identChar reports whether c may appear in a name in a constraint: the
// characters that delimit constraints, quote, or call functions may not
// (spaces and others come %XX-escaped).
func identChar(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune(`[]{}(),&:=<>"\`, rune(c))
}

func parseTerm(text string) (term, error) {
	t := term{text: text}
	if text == "" {
		return t, malformed(text, "empty variable name")
	}
	i := 0
	for i < len(text) && identChar(text[i]) {
		i++
	}
	t.ident = text[:i]
	if t.ident == "" {
		return t, malformed(text, "expected a variable name")
	}
	if strings.HasPrefix(t.ident, ".") || strings.HasSuffix(t.ident, ".") || strings.Contains(t.ident, "..") {
		return t, malformed(text, "empty name component")
	}
	for i < len(text) {
		if text[i] != '[' {
			if text[i] == '.' {
				return t, malformed(text, "a hyperslab must follow the full name of a variable")
			}
			return t, malformed(text, "unexpected %q", text[i:i+1])
		}
		end := strings.IndexByte(text[i:], ']')
		if end < 0 {
			return t, malformed(text, "missing ]")
		}
		idx, err := parseIndex(text, text[i+1:i+end])
		if err != nil {
			return t, err
		}
		t.slab = append(t.slab, idx)
		i += end + 1
	}
	return t, nil
}

// parseIndex parses the inside of one bracket: start, start:stop or
// start:stride:stop.
func parseIndex(text, s string) (index, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return index{}, malformed(text, "[%s] has more than start:stride:stop", s)
	}
	n := make([]int, len(parts))
	for i, p := range parts {
		v, err := parseCount(strings.TrimSpace(p))
		if err != nil {
			return index{}, malformed(text, "[%s]: %v", s, err)
		}
		n[i] = v
	}
	switch len(n) {
	case 1:
		return index{n[0], 1, n[0]}, nil
	case 2:
		return index{n[0], 1, n[1]}, nil
	}
	return index{n[0], n[1], n[2]}, nil
}

// parseCount parses a non-negative decimal integer small enough that sums
// and products of a few of them cannot overflow.
func parseCount(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("missing number")
	}
	if len(s) > 15 {
		return 0, fmt.Errorf("number %.20s is too large", s)
	}
	v := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a non-negative integer", s)
		}
		v = v*10 + int(c-'0')
	}
	return v, nil
}

// span is a bound hyperslab of one dimension: count elements from start,
// stride apart.
type span struct{ start, stride, count int }

// nodeKind says how a projected node is declared and sent.
type nodeKind uint8

const (
	atomic    nodeKind = iota // a base type scalar or Array
	grid                      // a Grid: members[0] the array, the rest its maps
	structure                 // a partially projected Grid
)

// node is one variable of a constrained dataset, in the order the DDS
// declares them and the data follow.
type node struct {
	kind    nodeKind
	name    string    // the name declared
	v       *variable // atomic only
	slab    []span    // atomic only: one span per DAP dimension
	members []*node
}

// projection collects what a constraint asks of one top-level variable.
type projection struct {
	v       *variable
	whole   []span   // the variable itself (for a Grid: all its members)
	members [][]span // for a Grid: [0] its array, [1:] its maps
	text    []string // the terms, for messages
}

// project binds terms to ds and returns the nodes to send, in dataset
// order. No terms means every variable, whole.
func (ds *dataset) project(terms []term) ([]*node, error) {
	projs := make(map[*variable]*projection)
	if len(terms) == 0 {
		for _, v := range ds.vars {
			projs[v] = &projection{v: v, whole: fullSlab(v)}
		}
	}
	for _, t := range terms {
		top, member, err := ds.resolve(t)
		if err != nil {
			return nil, err
		}
		// A map is constrained by its own single dimension.
		ranked := top
		if member > 0 {
			ranked = top.maps[member-1]
		}
		slab, err := bind(t, ranked)
		if err != nil {
			return nil, err
		}
		p := projs[top]
		if p == nil {
			p = &projection{v: top}
			projs[top] = p
		}
		if err := p.add(t.text, member, slab); err != nil {
			return nil, err
		}
	}
	var nodes []*node
	for _, v := range ds.vars {
		if p := projs[v]; p != nil {
			n, err := p.node()
			if err != nil {
				return nil, err
			}
			nodes = append(nodes, n)
		}
	}
	return nodes, nil
}

// resolve finds the variable a term names: a top-level variable (whose name
// may itself contain dots), or a member of a Grid written grid.member.
// member is -1 for the variable itself, 0 for a Grid's array and i for its
// i-th map.
func (ds *dataset) resolve(t term) (*variable, int, error) {
	name, err := unescape(t)
	if err != nil {
		return nil, 0, err
	}
	if v := ds.byName[name]; v != nil {
		return v, -1, nil
	}
	// Split at each '.' as written, so an escaped %2E stays in its name.
	for i := 0; i < len(t.ident); i++ {
		if t.ident[i] != '.' {
			continue
		}
		g, err1 := unescape(term{text: t.text, ident: t.ident[:i]})
		m, err2 := unescape(term{text: t.text, ident: t.ident[i+1:]})
		if err1 != nil || err2 != nil {
			continue
		}
		v := ds.byName[g]
		if v == nil || !v.isGrid() {
			continue
		}
		if m == v.name {
			return v, 0, nil
		}
		for j, c := range v.maps {
			if m == c.name {
				return v, j + 1, nil
			}
		}
	}
	return nil, 0, errorf(http.StatusNotFound, "no variable %s in this dataset", strconv.Quote(name))
}

func unescape(t term) (string, error) {
	name, err := url.PathUnescape(t.ident)
	if err != nil {
		return "", malformed(t.text, "bad %%XX escape in the name")
	}
	return name, nil
}

func fullSlab(v *variable) []span {
	s := make([]span, len(v.dims))
	for i, d := range v.dims {
		s[i] = span{0, 1, d.len}
	}
	return s
}

// bind checks a term's hyperslab against v's dimensions.
func bind(t term, v *variable) ([]span, error) {
	if t.slab == nil {
		return fullSlab(v), nil
	}
	if len(t.slab) != len(v.dims) {
		return nil, errorf(http.StatusBadRequest, "%s: %s has %d dimensions but the hyperslab has %d",
			quote(t.text), strconv.Quote(v.name), len(v.dims), len(t.slab))
	}
	s := make([]span, len(v.dims))
	for i, x := range t.slab {
		d := v.dims[i]
		bad := func(why string, args ...any) error {
			return errorf(http.StatusBadRequest, "%s: dimension %d (%s) of %s: %s", quote(t.text), i,
				strconv.Quote(d.name), strconv.Quote(v.name), fmt.Sprintf(why, args...))
		}
		switch {
		case d.len == 0:
			return nil, bad("the dimension is empty")
		case x.stride == 0:
			return nil, bad("stride is 0")
		case x.start > x.stop:
			return nil, bad("start %d is after stop %d", x.start, x.stop)
		case x.stop >= d.len:
			return nil, bad("index %d is out of range 0..%d", x.stop, d.len-1)
		}
		s[i] = span{x.start, x.stride, (x.stop-x.start)/x.stride + 1}
	}
	return s, nil
}

// add records one term: member -1 for the whole variable, else a Grid member.
func (p *projection) add(text string, member int, slab []span) error {
	p.text = append(p.text, text)
	if member < 0 {
		if p.whole != nil && !slices.Equal(p.whole, slab) {
			return p.conflict()
		}
		p.whole = slab
		return nil
	}
	if p.members == nil {
		p.members = make([][]span, len(p.v.maps)+1)
	}
	if old := p.members[member]; old != nil && !slices.Equal(old, slab) {
		return p.conflict()
	}
	p.members[member] = slab
	return nil
}

func (p *projection) conflict() error {
	return errorf(http.StatusBadRequest, "%s is projected more than once with different hyperslabs: %s",
		strconv.Quote(p.v.name), quote(strings.Join(p.text, ",")))
}

// node turns a projection into what is sent. A Grid projected whole, or
// with its array and every map constrained alike, is a Grid; a Grid of
// which only some members are projected is sent as a Structure of them, as
// libdap servers do and libnetcdf expects.
func (p *projection) node() (*node, error) {
	v := p.v
	if !v.isGrid() {
		return &node{kind: atomic, name: v.name, v: v, slab: p.whole}, nil
	}
	members := p.members
	if members == nil {
		members = make([][]span, len(v.maps)+1)
	}
	if p.whole != nil {
		// The whole Grid includes every member, constrained alike.
		implied := make([][]span, len(members))
		implied[0] = p.whole
		for i := range v.maps {
			implied[i+1] = p.whole[i : i+1]
		}
		for i, s := range members {
			if s != nil && !slices.Equal(s, implied[i]) {
				return nil, p.conflict()
			}
		}
		members = implied
	}
	isGrid := members[0] != nil
	for i, s := range members[1:] {
		isGrid = isGrid && s != nil && s[0] == members[0][i]
	}
	n := &node{kind: structure, name: v.name}
	if isGrid {
		n.kind = grid
	}
	for i, s := range members {
		if s == nil {
			continue
		}
		mv := v
		if i > 0 {
			mv = v.maps[i-1]
		}
		n.members = append(n.members, &node{kind: atomic, name: mv.name, v: mv, slab: s})
	}
	return n, nil
}
