// Command gen writes protocol/messages_gen.go from Kafka's JSON message
// schemas (clients/src/main/resources/common/message/*.json in Apache
// Kafka). It is the only part of the protocol package that reads files;
// run it with go generate in protocol/.
//
// What it emits, for every request and response schema:
//
//   - an APIKey<Name> constant and the IsFlexible, APIName and
//     SupportedVersions tables;
//   - a struct per message and per nested struct, with the JSON field
//     names kept as Go field names;
//   - Default, AppendTo, ReadFrom and Decode methods that follow the
//     schema's versions, nullableVersions, flexibleVersions and tagged
//     fields (KIP-482).
//
// Naming rule for nested structs: a nested struct is named after its JSON
// type ("[]TopicProduceData" gives TopicProduceData). When two schemas
// define the same JSON type name with different shapes (fields, types,
// versions, defaults, tags or the message's flexible versions), every
// definition of that name is prefixed with its message's name instead, for
// example ProduceResponseLeaderIdAndEpoch. Definitions with identical shapes
// share one Go type. The rule is applied until nothing changes, because
// renaming a child changes the shape of its parents.
//
// Schemas of type "header" are skipped: header.go is written by hand.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	schemas := flag.String("schemas", "../../shared/kafka-protocol", "directory of Kafka's JSON message schemas")
	out := flag.String("out", "messages_gen.go", "output Go file")
	flag.Parse()
	src, err := generate(*schemas)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

// generate reads every schema in dir and returns the formatted Go source.
func generate(dir string) ([]byte, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no *.json schemas in %s", dir)
	}
	sort.Strings(paths)
	var msgs []*message
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var rm rawMessage
		if err := json.Unmarshal(stripComments(raw), &rm); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if rm.Type != "request" && rm.Type != "response" {
			continue
		}
		m, err := buildMessage(&rm)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		msgs = append(msgs, m)
	}
	sort.Slice(msgs, func(i, j int) bool {
		if msgs[i].apiKey != msgs[j].apiKey {
			return msgs[i].apiKey < msgs[j].apiKey
		}
		return msgs[i].typ == "request" && msgs[j].typ == "response"
	})
	if err := nameStructs(msgs); err != nil {
		return nil, err
	}
	g := &generator{msgs: msgs}
	if err := g.prepare(); err != nil {
		return nil, err
	}
	src, err := g.emit()
	if err != nil {
		return nil, err
	}
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("formatting generated code: %w\n%s", err, src)
	}
	return out, nil
}

// stripComments removes // comments, which Kafka's schemas use although
// JSON has none. A "//" inside a string (a URL, say) is kept.
func stripComments(in []byte) []byte {
	out := make([]byte, 0, len(in))
	inString, escaped := false, false
	for i := 0; i < len(in); i++ {
		c := in[i]
		if inString {
			out = append(out, c)
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		if c == '"' {
			inString = true
		} else if c == '/' && i+1 < len(in) && in[i+1] == '/' {
			for i < len(in) && in[i] != '\n' {
				i++
			}
			if i < len(in) {
				out = append(out, '\n')
			}
			continue
		}
		out = append(out, c)
	}
	return out
}

// The raw schema, as Kafka's JSON spells it. Keys that do not change the
// wire format (listeners, mapKey, entityType, ignorable, zeroCopy) are not
// read.
type rawField struct {
	Name             string          `json:"name"`
	Type             string          `json:"type"`
	Versions         string          `json:"versions"`
	NullableVersions string          `json:"nullableVersions"`
	TaggedVersions   string          `json:"taggedVersions"`
	FlexibleVersions string          `json:"flexibleVersions"`
	Tag              *int            `json:"tag"`
	Default          json.RawMessage `json:"default"`
	About            string          `json:"about"`
	Fields           []rawField      `json:"fields"`
}

type rawStruct struct {
	Name     string     `json:"name"`
	Versions string     `json:"versions"`
	Fields   []rawField `json:"fields"`
}

type rawMessage struct {
	APIKey                *int        `json:"apiKey"`
	Type                  string      `json:"type"`
	Name                  string      `json:"name"`
	ValidVersions         string      `json:"validVersions"`
	FlexibleVersions      string      `json:"flexibleVersions"`
	LatestVersionUnstable bool        `json:"latestVersionUnstable"`
	Fields                []rawField  `json:"fields"`
	CommonStructs         []rawStruct `json:"commonStructs"`
}

// vrange is an inclusive version range; lo > hi means no versions.
type vrange struct{ lo, hi int16 }

var noVersions = vrange{1, 0}

func (v vrange) empty() bool { return v.lo > v.hi }

func (v vrange) intersect(o vrange) vrange {
	r := vrange{max(v.lo, o.lo), min(v.hi, o.hi)}
	if r.empty() {
		return noVersions
	}
	return r
}

func (v vrange) contains(o vrange) bool {
	return o.empty() || (!v.empty() && v.lo <= o.lo && o.hi <= v.hi)
}

func (v vrange) has(version int16) bool { return v.lo <= version && version <= v.hi }

func (v vrange) String() string {
	switch {
	case v.empty():
		return "none"
	case v.hi == math.MaxInt16:
		return fmt.Sprintf("%d+", v.lo)
	case v.lo == v.hi:
		return strconv.Itoa(int(v.lo))
	}
	return fmt.Sprintf("%d-%d", v.lo, v.hi)
}

// parseVersions parses "3+", "0-12", "7" and "none"; "" gives def.
func parseVersions(s string, def vrange) (vrange, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return def, nil
	case s == "none":
		return noVersions, nil
	case strings.HasSuffix(s, "+"):
		lo, err := strconv.ParseInt(s[:len(s)-1], 10, 16)
		return vrange{int16(lo), math.MaxInt16}, err
	case strings.Contains(s, "-"):
		a, b, _ := strings.Cut(s, "-")
		lo, err1 := strconv.ParseInt(a, 10, 16)
		hi, err2 := strconv.ParseInt(b, 10, 16)
		if err := errors.Join(err1, err2); err != nil {
			return noVersions, err
		}
		return vrange{int16(lo), int16(hi)}, nil
	}
	v, err := strconv.ParseInt(s, 10, 16)
	return vrange{int16(v), int16(v)}, err
}

// primitive types and their Go spelling.
var goPrim = map[string]string{
	"bool": "bool", "int8": "int8", "int16": "int16", "uint16": "uint16",
	"int32": "int32", "uint32": "uint32", "int64": "int64", "float64": "float64",
	"string": "string", "bytes": "[]byte", "records": "[]byte", "uuid": "UUID",
}

// fixedSize is the encoded size of fixed-width primitives.
var fixedSize = map[string]int{
	"bool": 1, "int8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4,
	"int64": 8, "float64": 8, "uuid": 16,
}

var appendFunc = map[string]string{
	"bool": "AppendBool", "int8": "AppendInt8", "int16": "AppendInt16", "uint16": "AppendUint16",
	"int32": "AppendInt32", "uint32": "AppendUint32", "int64": "AppendInt64",
	"float64": "AppendFloat64", "uuid": "AppendUUID",
}

var readFunc = map[string]string{
	"bool": "Bool", "int8": "Int8", "int16": "Int16", "uint16": "Uint16",
	"int32": "Int32", "uint32": "Uint32", "int64": "Int64",
	"float64": "Float64", "uuid": "UUID",
}

type message struct {
	name     string // ProduceRequest
	apiName  string // Produce
	apiKey   int
	typ      string // request or response
	valid    vrange
	flex     vrange
	unstable bool // the latest valid version is not yet stable
	top      *structDef
	structs  []*structDef // nested structs in first-use order
}

type structDef struct {
	msg      *message
	jsonName string
	goName   string
	top      bool
	doc      string // where the struct is used, for its doc comment
	about    string
	fields   []*field
	hull     vrange // every version in which the struct can be encoded
	sharedBy []*structDef
	// isDefault is needed when the struct is a tagged field or inside one.
	needIsDefault bool
	// minSize<Name> is needed when the smallest element size varies.
	needMinSize bool
}

// hasRecords reports whether sd holds a records field, itself or in a
// struct it contains: such a struct gets an appendToVec.
func (sd *structDef) hasRecords() bool {
	for _, f := range sd.fields {
		if f.prim == "records" || (f.st != nil && f.st.hasRecords()) {
			return true
		}
	}
	return false
}

type field struct {
	name     string
	about    string
	prim     string // primitive type name, or "" for a struct
	array    bool
	st       *structDef // element or value struct
	stName   string     // JSON struct name, before st is resolved
	versions vrange
	nullable vrange
	tagged   vrange
	tag      int     // -1 when never tagged
	flex     *vrange // field-level flexibleVersions override
	def      string  // raw default, unquoted; "" when absent
	hasDef   bool    // the schema gave a default
	defJSON  []byte  // raw default JSON, for shape comparison
	parent   *structDef
	present  vrange // versions ∩ parent hull, minus tagged versions
	tagPres  vrange // tagged versions ∩ parent hull
}

func buildMessage(rm *rawMessage) (*message, error) {
	if rm.APIKey == nil {
		return nil, errors.New("no apiKey")
	}
	valid, err := parseVersions(rm.ValidVersions, noVersions)
	if err != nil || valid.empty() {
		return nil, fmt.Errorf("bad validVersions %q", rm.ValidVersions)
	}
	flex, err := parseVersions(rm.FlexibleVersions, noVersions)
	if err != nil {
		return nil, fmt.Errorf("bad flexibleVersions %q", rm.FlexibleVersions)
	}
	if !flex.empty() && flex.hi != math.MaxInt16 {
		return nil, fmt.Errorf("flexibleVersions %q must be open-ended", rm.FlexibleVersions)
	}
	m := &message{
		name:     rm.Name,
		apiName:  strings.TrimSuffix(strings.TrimSuffix(rm.Name, "Request"), "Response"),
		apiKey:   *rm.APIKey,
		typ:      rm.Type,
		valid:    valid,
		flex:     flex,
		unstable: rm.LatestVersionUnstable,
	}
	defs := map[string]*structDef{}
	common := map[string]rawStruct{}
	for _, cs := range rm.CommonStructs {
		common[cs.Name] = cs
	}
	top := &structDef{msg: m, jsonName: rm.Name, goName: rm.Name, top: true}
	m.top = top
	if err := m.buildFields(top, rm.Fields, defs, common); err != nil {
		return nil, err
	}
	// Common structs are resolved lazily, so one that no field uses is
	// not emitted.
	if err := m.resolve(top, defs, common); err != nil {
		return nil, err
	}
	top.hull = valid
	m.computeHulls(top)
	return m, nil
}

func (m *message) buildFields(sd *structDef, raws []rawField, defs map[string]*structDef, common map[string]rawStruct) error {
	seen := map[string]bool{}
	tags := map[int]string{}
	for i := range raws {
		rf := &raws[i]
		if seen[rf.Name] {
			return fmt.Errorf("%s: duplicate field %s", sd.jsonName, rf.Name)
		}
		seen[rf.Name] = true
		f := &field{name: rf.Name, about: rf.About, tag: -1, parent: sd}
		var err error
		if f.versions, err = parseVersions(rf.Versions, noVersions); err != nil {
			return fmt.Errorf("%s.%s: versions: %w", sd.jsonName, f.name, err)
		}
		if f.versions.empty() {
			return fmt.Errorf("%s.%s: no versions", sd.jsonName, f.name)
		}
		if f.nullable, err = parseVersions(rf.NullableVersions, noVersions); err != nil {
			return fmt.Errorf("%s.%s: nullableVersions: %w", sd.jsonName, f.name, err)
		}
		if f.tagged, err = parseVersions(rf.TaggedVersions, noVersions); err != nil {
			return fmt.Errorf("%s.%s: taggedVersions: %w", sd.jsonName, f.name, err)
		}
		if rf.FlexibleVersions != "" {
			fv, err := parseVersions(rf.FlexibleVersions, noVersions)
			if err != nil {
				return fmt.Errorf("%s.%s: flexibleVersions: %w", sd.jsonName, f.name, err)
			}
			f.flex = &fv
		}
		if rf.Tag != nil {
			f.tag = *rf.Tag
			if f.tagged.empty() {
				return fmt.Errorf("%s.%s: tag without taggedVersions", sd.jsonName, f.name)
			}
			if prev, ok := tags[f.tag]; ok {
				return fmt.Errorf("%s: fields %s and %s share tag %d", sd.jsonName, prev, f.name, f.tag)
			}
			tags[f.tag] = f.name
		} else if !f.tagged.empty() {
			return fmt.Errorf("%s.%s: taggedVersions without tag", sd.jsonName, f.name)
		}
		// KIP-482: tagged fields exist only in flexible versions and are
		// tagged from some version on.
		if !f.tagged.empty() && (!f.versions.contains(f.tagged) || !m.flex.contains(f.tagged) || f.tagged.hi != math.MaxInt16) {
			return fmt.Errorf("%s.%s: taggedVersions %s must be open-ended within versions %s and flexible versions %s",
				sd.jsonName, f.name, f.tagged, f.versions, m.flex)
		}
		if len(rf.Default) > 0 {
			f.hasDef = true
			f.defJSON = rf.Default
			var s string
			if json.Unmarshal(rf.Default, &s) != nil {
				// Numbers and booleans appear unquoted in some schemas.
				s = string(rf.Default)
			}
			f.def = s
		}
		t := rf.Type
		if strings.HasPrefix(t, "[]") {
			f.array = true
			t = t[2:]
		}
		if _, ok := goPrim[t]; ok {
			f.prim = t
			if len(rf.Fields) > 0 {
				return fmt.Errorf("%s.%s: primitive type %s with fields", sd.jsonName, f.name, rf.Type)
			}
			if f.array && (t == "records") {
				return fmt.Errorf("%s.%s: array of records", sd.jsonName, f.name)
			}
		} else {
			if t == "" || !isIdent(t) {
				return fmt.Errorf("%s.%s: bad type %q", sd.jsonName, f.name, rf.Type)
			}
			f.stName = t
			if len(rf.Fields) > 0 {
				if _, ok := defs[t]; ok {
					return fmt.Errorf("%s.%s: struct %s defined twice", sd.jsonName, f.name, t)
				}
				if _, ok := common[t]; ok {
					return fmt.Errorf("%s.%s: struct %s is also a common struct", sd.jsonName, f.name, t)
				}
				child := &structDef{msg: m, jsonName: t, goName: t, about: rf.About,
					doc: useDoc(sd, f)}
				defs[t] = child
				if err := m.buildFields(child, rf.Fields, defs, common); err != nil {
					return err
				}
			}
		}
		if !f.nullable.empty() {
			switch {
			case f.array, f.prim == "string", f.prim == "bytes", f.prim == "records":
			default:
				return fmt.Errorf("%s.%s: type %s cannot be nullable", sd.jsonName, f.name, rf.Type)
			}
		}
		if f.flex != nil && f.prim != "string" && f.prim != "bytes" {
			return fmt.Errorf("%s.%s: field-level flexibleVersions on %s", sd.jsonName, f.name, rf.Type)
		}
		sd.fields = append(sd.fields, f)
	}
	return nil
}

// resolve links struct-typed fields to their definitions, building common
// structs on first use, and records nested structs in first-use order.
func (m *message) resolve(sd *structDef, defs map[string]*structDef, common map[string]rawStruct) error {
	for _, f := range sd.fields {
		if f.stName == "" {
			continue
		}
		child, ok := defs[f.stName]
		if !ok {
			cs, ok := common[f.stName]
			if !ok {
				return fmt.Errorf("%s.%s: unknown type %s", sd.jsonName, f.name, f.stName)
			}
			child = &structDef{msg: m, jsonName: cs.Name, goName: cs.Name}
			defs[cs.Name] = child
			if err := m.buildFields(child, cs.Fields, defs, common); err != nil {
				return err
			}
		}
		f.st = child
		if child.doc == "" {
			child.doc = useDoc(sd, f)
			child.about = f.about
		}
		if !m.listed(child) {
			m.structs = append(m.structs, child)
			if err := m.resolve(child, defs, common); err != nil {
				return err
			}
		}
	}
	return nil
}

// useDoc describes the use of a nested struct by parent's field f.
func useDoc(parent *structDef, f *field) string {
	if f.array {
		return fmt.Sprintf("an element of %s.%s", parent.goName, f.name)
	}
	return fmt.Sprintf("the type of %s.%s", parent.goName, f.name)
}

func (m *message) listed(sd *structDef) bool {
	for _, s := range m.structs {
		if s == sd {
			return true
		}
	}
	return false
}

// computeHulls finds, for every nested struct, the versions in which it
// can be encoded, so version checks that always hold are left out.
func (m *message) computeHulls(sd *structDef) {
	for _, f := range sd.fields {
		f.setPresence(sd.hull)
		if f.st == nil {
			continue
		}
		use := f.versions.intersect(sd.hull)
		if use.empty() {
			continue
		}
		h := f.st.hull
		if h == (vrange{}) || h.empty() {
			h = use
		} else {
			h = vrange{min(h.lo, use.lo), max(h.hi, use.hi)}
		}
		f.st.hull = h
		m.computeHulls(f.st)
	}
}

func isIdent(s string) bool {
	for i, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// shape is a struct's wire identity: two definitions with one shape can
// share a Go type.
func (sd *structDef) shape() string {
	var b strings.Builder
	fmt.Fprintf(&b, "flex=%s;", sd.msg.flex)
	for _, f := range sd.fields {
		child := ""
		if f.st != nil {
			child = f.st.goName
		}
		flex := ""
		if f.flex != nil {
			flex = f.flex.String()
		}
		fmt.Fprintf(&b, "%s|%s|%v|%s|%s|%s|%s|%d|%s|%s;", f.name, f.prim, f.array, child,
			f.versions, f.nullable, f.tagged, f.tag, flex, f.defJSON)
	}
	return b.String()
}

// nameStructs applies the naming rule in the package comment.
func nameStructs(msgs []*message) error {
	reserved := map[string]bool{}
	for _, m := range msgs {
		reserved[m.name] = true
	}
	for {
		byName := map[string][]*structDef{}
		var names []string
		for _, m := range msgs {
			for _, sd := range m.structs {
				if _, ok := byName[sd.goName]; !ok {
					names = append(names, sd.goName)
				}
				byName[sd.goName] = append(byName[sd.goName], sd)
			}
		}
		changed := false
		for _, name := range names {
			group := byName[name]
			shapes := map[string]bool{}
			for _, sd := range group {
				shapes[sd.shape()] = true
			}
			if len(shapes) == 1 && !reserved[name] {
				continue
			}
			for _, sd := range group {
				prefixed := sd.msg.name + sd.jsonName
				if sd.goName == prefixed {
					return fmt.Errorf("struct %s is defined twice with different shapes", prefixed)
				}
				sd.goName = prefixed
				changed = true
			}
		}
		if changed {
			continue
		}
		// Shared definitions become one Go type: the first (by API key,
		// request before response) is emitted, its hull covers every use,
		// and every field that used another definition now uses it.
		canon := map[*structDef]*structDef{}
		for _, name := range names {
			group := byName[name]
			first := group[0]
			for _, sd := range group[1:] {
				first.hull = vrange{min(first.hull.lo, sd.hull.lo), max(first.hull.hi, sd.hull.hi)}
				first.sharedBy = append(first.sharedBy, sd)
			}
			for _, sd := range group {
				canon[sd] = first
			}
		}
		for _, m := range msgs {
			for _, sd := range append([]*structDef{m.top}, m.structs...) {
				for _, f := range sd.fields {
					if f.st != nil {
						f.st = canon[f.st]
					}
				}
			}
		}
		// Field presence depends on the hull, so it is computed again on
		// the merged hulls.
		for _, m := range msgs {
			for _, sd := range append([]*structDef{m.top}, m.structs...) {
				if canon[sd] != nil && canon[sd] != sd {
					continue
				}
				for _, f := range sd.fields {
					f.setPresence(sd.hull)
				}
			}
		}
		return nil
	}
}

// setPresence computes the versions in which f is written as a regular
// field and as a tagged field, within hull.
func (f *field) setPresence(hull vrange) {
	f.tagPres = f.tagged.intersect(hull)
	f.present = f.versions.intersect(hull)
	if !f.tagPres.empty() {
		// Tagged versions are a suffix of the field's versions.
		f.present = f.present.intersect(vrange{f.present.lo, f.tagPres.lo - 1})
	}
}

// generator writes Go source into buf.
type generator struct {
	msgs []*message
	buf  bytes.Buffer
	// helpers used by the emitted code, emitted once at the end.
	usePtr bool
}

func (g *generator) p(format string, args ...any) {
	fmt.Fprintf(&g.buf, format, args...)
	g.buf.WriteByte('\n')
}

func (g *generator) emit() ([]byte, error) {
	g.p("// Code generated by protocol/gen; DO NOT EDIT.")
	g.p("")
	g.p("package protocol")
	g.p("")
	g.p(`import "fmt"`)
	g.p("")
	if err := g.emitTables(); err != nil {
		return nil, err
	}
	emitted := map[string]bool{}
	for _, m := range g.msgs {
		if err := g.emitStruct(m.top); err != nil {
			return nil, err
		}
		for _, sd := range m.structs {
			if emitted[sd.goName] {
				continue
			}
			emitted[sd.goName] = true
			if err := g.emitStruct(sd); err != nil {
				return nil, err
			}
		}
	}
	g.emitHelpers()
	return g.buf.Bytes(), nil
}

type api struct {
	name     string
	key      int
	req      *message
	resp     *message
	maxValid int16
}

func (g *generator) apis() ([]*api, error) {
	byKey := map[int]*api{}
	var out []*api
	for _, m := range g.msgs {
		a := byKey[m.apiKey]
		if a == nil {
			a = &api{name: m.apiName, key: m.apiKey}
			byKey[m.apiKey] = a
			out = append(out, a)
		}
		if a.name != m.apiName {
			return nil, fmt.Errorf("API key %d is both %s and %s", m.apiKey, a.name, m.apiName)
		}
		if m.typ == "request" {
			a.req = m
		} else {
			a.resp = m
		}
	}
	for _, a := range out {
		if a.req == nil || a.resp == nil {
			return nil, fmt.Errorf("API %s lacks its request or response schema", a.name)
		}
		// One version number names both halves of an exchange, so the two
		// schemas must agree on versions and on flexibility.
		if a.req.valid != a.resp.valid || a.req.flex != a.resp.flex {
			return nil, fmt.Errorf("API %s: request versions %s flexible %s, response versions %s flexible %s",
				a.name, a.req.valid, a.req.flex, a.resp.valid, a.resp.flex)
		}
		a.maxValid = a.req.valid.hi
		if a.req.unstable || a.resp.unstable {
			a.maxValid--
		}
	}
	return out, nil
}

func (g *generator) emitTables() error {
	apis, err := g.apis()
	if err != nil {
		return err
	}
	g.p("// API keys, one per request/response pair.")
	g.p("const (")
	for _, a := range apis {
		g.p("APIKey%s int16 = %d", a.name, a.key)
	}
	g.p(")")
	g.p("")
	g.p("// IsFlexible reports whether version of apiKey uses the flexible encoding")
	g.p("// of KIP-482: compact strings, bytes and arrays, and a tagged-field section")
	g.p("// after every struct. Flexible requests also use request header v2.")
	g.p("func IsFlexible(apiKey, version int16) bool {")
	g.p("switch apiKey {")
	for _, a := range apis {
		if a.req.flex.empty() {
			continue
		}
		g.p("case APIKey%s:", a.name)
		g.p("return version >= %d", a.req.flex.lo)
	}
	g.p("}")
	g.p("return false")
	g.p("}")
	g.p("")
	g.p("// APIName returns the schema name of apiKey, such as \"Produce\", or")
	g.p("// \"Unknown\" for a key this package does not know.")
	g.p("func APIName(apiKey int16) string {")
	g.p("switch apiKey {")
	for _, a := range apis {
		g.p("case APIKey%s:", a.name)
		g.p("return %q", a.name)
	}
	g.p("}")
	g.p(`return "Unknown"`)
	g.p("}")
	g.p("")
	g.p("// SupportedVersions returns the versions of apiKey a client should")
	g.p("// negotiate, from the schema's validVersions. A latest version the schema")
	g.p("// marks unstable (latestVersionUnstable) is left out, as brokers only")
	g.p("// advertise it when unstable APIs are enabled; the message types still")
	g.p("// encode it up to their MaxVersion.")
	g.p("func SupportedVersions(apiKey int16) (min, max int16, ok bool) {")
	g.p("switch apiKey {")
	for _, a := range apis {
		g.p("case APIKey%s:", a.name)
		g.p("return %d, %d, true", a.req.valid.lo, a.maxValid)
	}
	g.p("}")
	g.p("return 0, 0, false")
	g.p("}")
	g.p("")
	return nil
}

// comment writes text as a // comment wrapped to about 76 columns.
func (g *generator) comment(text string) {
	words := strings.Fields(text)
	line := "//"
	for _, w := range words {
		if len(line)+1+len(w) > 76 && line != "//" {
			g.p("%s", line)
			line = "//"
		}
		line += " " + w
	}
	if line != "//" {
		g.p("%s", line)
	}
}

func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// goType is the Go type of f.
func (f *field) goType() string {
	var t string
	if f.st != nil {
		t = f.st.goName
	} else {
		t = goPrim[f.prim]
		if f.prim == "string" && !f.array && !f.nullable.intersect(f.versions).empty() {
			t = "*string"
		}
	}
	if f.array {
		t = "[]" + t
	}
	return t
}

func (f *field) isStringPtr() bool { return f.goType() == "*string" }

// defaultLit returns the Go literal of f's default, or "" for the zero
// value.
func (f *field) defaultLit() (string, error) {
	if f.st != nil && !f.array {
		return f.st.defaultLit(), nil
	}
	if f.array {
		if f.hasDef && f.def != "" && f.def != "null" && f.def != "[]" {
			return "", fmt.Errorf("%s: array default %q", f.name, f.def)
		}
		// A nullable array defaults to nil, which is null on the wire.
		return "", nil
	}
	if !f.hasDef {
		return "", nil
	}
	d := f.def
	switch f.prim {
	case "bool":
		switch d {
		case "true":
			return "true", nil
		case "false", "":
			return "", nil
		}
	case "int8", "int16", "int32", "int64", "uint16", "uint32":
		bits := map[string]int{"int8": 8, "int16": 16, "int32": 32, "int64": 64, "uint16": 16, "uint32": 32}[f.prim]
		if strings.HasPrefix(f.prim, "u") {
			v, err := strconv.ParseUint(d, 0, bits)
			if err != nil {
				return "", fmt.Errorf("%s: default %q: %w", f.name, d, err)
			}
			if v == 0 {
				return "", nil
			}
			return strconv.FormatUint(v, 10), nil
		}
		v, err := strconv.ParseInt(d, 0, bits)
		if err != nil {
			return "", fmt.Errorf("%s: default %q: %w", f.name, d, err)
		}
		if v == 0 {
			return "", nil
		}
		return strconv.FormatInt(v, 10), nil
	case "float64":
		v, err := strconv.ParseFloat(d, 64)
		if err != nil {
			return "", fmt.Errorf("%s: default %q: %w", f.name, d, err)
		}
		if v == 0 {
			return "", nil
		}
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case "string":
		if f.isStringPtr() {
			if d == "null" {
				return "", nil
			}
			return fmt.Sprintf("genPtr(%q)", d), nil
		}
		if d == "null" {
			return "", fmt.Errorf("%s: null default for a non-nullable string", f.name)
		}
		if d == "" {
			return "", nil
		}
		return strconv.Quote(d), nil
	case "bytes", "records":
		if d == "" || d == "null" {
			return "", nil
		}
	case "uuid":
		if d == "" || d == "AAAAAAAAAAAAAAAAAAAAAA" {
			return "", nil
		}
	}
	return "", fmt.Errorf("%s: unsupported default %q for %s", f.name, d, f.prim)
}

// defaultLit is a composite literal of sd with every schema default.
func (sd *structDef) defaultLit() string {
	var parts []string
	for _, f := range sd.fields {
		lit, err := f.defaultLit()
		if err != nil || lit == "" || lit == sd.zeroLitOf(f) {
			continue
		}
		parts = append(parts, f.name+": "+lit)
	}
	return sd.goName + "{" + strings.Join(parts, ", ") + "}"
}

func (sd *structDef) zeroLitOf(f *field) string {
	if f.st != nil && !f.array {
		return f.st.goName + "{}"
	}
	return ""
}

// isDefaultExpr is a Go expression that holds when x, a value of f's
// type, equals f's default. Tagged fields are written only when it fails.
func (f *field) isDefaultExpr(x string) (string, error) {
	if f.array {
		if !f.nullable.intersect(f.versions).empty() {
			return x + " == nil", nil
		}
		return "len(" + x + ") == 0", nil
	}
	if f.st != nil {
		f.st.markIsDefault()
		return x + ".isDefault()", nil
	}
	lit, err := f.defaultLit()
	if err != nil {
		return "", err
	}
	switch f.prim {
	case "string":
		if f.isStringPtr() {
			if lit == "" {
				return x + " == nil", nil
			}
			return fmt.Sprintf("%s != nil && *%s == %q", x, x, f.def), nil
		}
		if lit == "" {
			lit = `""`
		}
		return x + " == " + lit, nil
	case "bytes", "records":
		if !f.nullable.intersect(f.versions).empty() {
			return x + " == nil", nil
		}
		return "len(" + x + ") == 0", nil
	case "uuid":
		return x + " == (UUID{})", nil
	case "bool":
		if lit == "" {
			return "!" + x, nil
		}
		return x, nil
	}
	if lit == "" {
		lit = "0"
	}
	return x + " == " + lit, nil
}

func (sd *structDef) markIsDefault() {
	if sd.needIsDefault {
		return
	}
	sd.needIsDefault = true
	for _, f := range sd.fields {
		if f.st != nil && !f.array {
			f.st.markIsDefault()
		}
	}
}

// condExpr is a Go condition on version that holds for versions in r,
// given that version is within hull. "" means always, "false" never.
func condExpr(r, hull vrange) string {
	r = r.intersect(hull)
	if r.empty() {
		return "false"
	}
	var parts []string
	if r.lo > hull.lo {
		parts = append(parts, fmt.Sprintf("version >= %d", r.lo))
	}
	if r.hi < hull.hi {
		parts = append(parts, fmt.Sprintf("version <= %d", r.hi))
	}
	return strings.Join(parts, " && ")
}

// compactCond says when f is compact within the versions pres.
func (f *field) compactCond(pres vrange, msgFlex vrange) string {
	if f.flex != nil {
		return condExpr(*f.flex, pres)
	}
	c := condExpr(msgFlex, pres)
	if c != "" && c != "false" {
		// The flexible parameter already says it.
		return "flexible"
	}
	return c
}

// boolArg turns a condition into a Go bool expression.
func boolArg(c string) string {
	switch c {
	case "":
		return "true"
	case "false":
		return "false"
	}
	return c
}

// negate returns the Go condition that holds when c does not. It handles
// the shapes the generator writes and falls back to !(c).
func negate(c string) string {
	switch {
	case strings.Contains(c, "&&") || strings.Contains(c, "||"):
		return "!(" + c + ")"
	case strings.Contains(c, " == "):
		if l, ok := strings.CutPrefix(c, "len("); ok && strings.HasSuffix(c, ") == 0") {
			return "len(" + strings.TrimSuffix(l, ") == 0") + ") > 0"
		}
		return strings.Replace(c, " == ", " != ", 1)
	case strings.Contains(c, " >= "):
		return strings.Replace(c, " >= ", " < ", 1)
	case strings.Contains(c, " <= "):
		return strings.Replace(c, " <= ", " > ", 1)
	case strings.HasPrefix(c, "!") && !strings.Contains(c, " "):
		return c[1:]
	case !strings.Contains(c, " "):
		return "!" + c
	}
	return "!(" + c + ")"
}

// branch emits then or els under cond.
func (g *generator) branch(cond string, then, els func()) {
	switch cond {
	case "":
		then()
	case "false":
		els()
	default:
		g.p("if %s {", cond)
		then()
		g.p("} else {")
		els()
		g.p("}")
	}
}

// minSize is the smallest encoding of one sd at version.
func (sd *structDef) minSize(version int16) int {
	n := 0
	flexible := sd.msg.flex.has(version)
	for _, f := range sd.fields {
		if !f.versions.has(version) || f.tagged.has(version) {
			continue
		}
		n += f.minSize(version, flexible)
	}
	if flexible {
		n++ // the tagged-field count
	}
	return max(n, 1)
}

func (f *field) minSize(version int16, flexible bool) int {
	compact := flexible
	if f.flex != nil {
		compact = f.flex.has(version)
	}
	if f.array {
		if compact {
			return 1
		}
		return 4
	}
	if f.st != nil {
		return f.st.minSize(version)
	}
	return f.elemMinSize(compact)
}

// elemMinSize is the smallest encoding of one value of f's element type.
func (f *field) elemMinSize(compact bool) int {
	if n, ok := fixedSize[f.prim]; ok {
		return n
	}
	switch {
	case compact:
		return 1
	case f.prim == "string":
		return 2
	}
	return 4
}

// minSizeExpr is a Go expression for the smallest encoding of one element
// of the struct array f, and whether a helper function is needed.
func (f *field) minSizeExpr(pres vrange) string {
	sizes := map[int]bool{}
	for v := int(pres.lo); v <= int(pres.hi); v++ {
		sizes[f.st.minSize(int16(v))] = true
		if v == math.MaxInt16 {
			break
		}
	}
	if len(sizes) == 1 {
		for n := range sizes {
			return strconv.Itoa(n)
		}
	}
	return fmt.Sprintf("minSize%s(version)", f.st.goName)
}

func (g *generator) emitStruct(sd *structDef) error {
	m := sd.msg
	// Doc comment.
	if sd.top {
		g.comment(fmt.Sprintf("%s is the body of a %s %s (API key %d), versions %s; versions %s are flexible (KIP-482).",
			sd.goName, m.apiName, m.typ, m.apiKey, m.valid, m.flex))
		if m.unstable {
			g.comment(fmt.Sprintf("Version %d is marked unstable in the schema.", m.valid.hi))
		}
	} else {
		uses := []string{sd.doc}
		for _, o := range sd.sharedBy {
			uses = append(uses, o.doc)
		}
		g.comment(fmt.Sprintf("%s is %s. %s", sd.goName, strings.Join(uses, " and "), sentence(sd.about)))
	}
	g.p("type %s struct {", sd.goName)
	reservedNames := map[string]bool{"Default": true}
	if sd.top {
		for _, n := range []string{"APIKey", "MinVersion", "MaxVersion", "AppendTo", "AppendToVec", "ReadFrom", "Decode"} {
			reservedNames[n] = true
		}
	}
	for i, f := range sd.fields {
		if reservedNames[f.name] {
			return fmt.Errorf("%s.%s: field name clashes with a method", sd.goName, f.name)
		}
		if i > 0 {
			g.p("")
		}
		if f.about != "" {
			g.comment(sentence(f.about))
		}
		g.comment(f.versionDoc())
		g.p("%s %s", f.name, f.goType())
	}
	g.p("}")
	g.p("")

	lit := sd.defaultLit()
	for _, f := range sd.fields {
		if l, err := f.defaultLit(); err != nil {
			return fmt.Errorf("%s.%w", sd.goName, err)
		} else if strings.Contains(l, "genPtr(") {
			g.usePtr = true
		}
	}
	g.p("// New%s returns a %s with the schema's defaults.", sd.goName, sd.goName)
	g.p("func New%s() %s { return %s }", sd.goName, sd.goName, lit)
	g.p("")
	g.p("// Default resets m to the schema's defaults.")
	g.p("func (m *%s) Default() { *m = %s }", sd.goName, lit)
	g.p("")

	if sd.top {
		// The argument the exported methods pass as "flexible".
		flexArg := "false"
		if !m.flex.empty() {
			flexArg = fmt.Sprintf("version >= %d", m.flex.lo)
		}
		g.p("// APIKey returns the API key, %d.", m.apiKey)
		g.p("func (*%s) APIKey() int16 { return APIKey%s }", sd.goName, m.apiName)
		g.p("")
		g.p("// MinVersion returns the oldest version the schema defines.")
		g.p("func (*%s) MinVersion() int16 { return %d }", sd.goName, m.valid.lo)
		g.p("")
		g.p("// MaxVersion returns the newest version the schema defines.")
		g.p("func (*%s) MaxVersion() int16 { return %d }", sd.goName, m.valid.hi)
		g.p("")
		g.p("// AppendTo appends the body of m at version, without header or size")
		g.p("// prefix. version must be within MinVersion and MaxVersion; fields the")
		g.p("// version lacks are not written.")
		g.p("func (m *%s) AppendTo(b []byte, version int16) []byte {", sd.goName)
		g.p("return m.appendTo(b, version, %s)", flexArg)
		g.p("}")
		g.p("")
		if sd.hasRecords() {
			g.p("// AppendToVec encodes m like AppendTo, except that the bytes of records")
			g.p("// fields are left out, each marked by a Splice, so that a caller can")
			g.p("// write them from where they are (a vectored write) instead of copying")
			g.p("// them into b. With the splices in place, the encoding is AppendTo's.")
			g.p("func (m *%s) AppendToVec(b []byte, version int16, splices []Splice) ([]byte, []Splice) {", sd.goName)
			g.p("return m.appendToVec(b, version, %s, splices)", flexArg)
			g.p("}")
			g.p("")
		}
		g.p("// ReadFrom reads a body of version into m. Errors stick in r; fields the")
		g.p("// version lacks keep their defaults.")
		g.p("func (m *%s) ReadFrom(r *Reader, version int16) {", sd.goName)
		g.p("if version < %d || version > %d {", m.valid.lo, m.valid.hi)
		g.p("m.Default()")
		g.p(`r.Fail(fmt.Errorf("protocol: %s version %%d is outside %s", version))`, sd.goName, m.valid)
		g.p("return")
		g.p("}")
		g.p("m.readFrom(r, version, %s)", flexArg)
		g.p("}")
		g.p("")
		g.p("// Decode reads b, a whole body of version, into m.")
		g.p("func (m *%s) Decode(b []byte, version int16) error {", sd.goName)
		g.p("r := NewReader(b)")
		g.p("m.ReadFrom(r, version)")
		g.p("return r.Complete()")
		g.p("}")
		g.p("")
	}
	if err := g.emitAppend(sd, false); err != nil {
		return err
	}
	if sd.hasRecords() {
		if err := g.emitAppend(sd, true); err != nil {
			return err
		}
	}
	if err := g.emitRead(sd); err != nil {
		return err
	}
	g.emitMinSize(sd)
	return g.emitIsDefault(sd)
}

func (f *field) versionDoc() string {
	var parts []string
	if f.tagged.empty() {
		parts = append(parts, "Versions "+f.versions.String())
	} else if f.tagged == f.versions {
		parts = append(parts, fmt.Sprintf("Tagged field %d in versions %s", f.tag, f.tagged))
	} else {
		parts = append(parts, fmt.Sprintf("Versions %s, tagged field %d in versions %s", f.versions, f.tag, f.tagged))
	}
	if !f.nullable.empty() {
		parts = append(parts, "nullable "+f.nullable.String())
	}
	if f.hasDef {
		d := f.def
		if f.prim == "string" && d != "null" {
			d = strconv.Quote(d)
		}
		parts = append(parts, "default "+d)
	}
	return strings.Join(parts, "; ") + "."
}

// emitAppend writes sd's appendTo, or with vec its appendToVec, which
// leaves records out and marks their place with a Splice.
func (g *generator) emitAppend(sd *structDef, vec bool) error {
	if vec {
		g.p("func (m *%s) appendToVec(b []byte, version int16, flexible bool, splices []Splice) ([]byte, []Splice) {", sd.goName)
	} else {
		g.p("func (m *%s) appendTo(b []byte, version int16, flexible bool) []byte {", sd.goName)
	}
	for _, f := range sd.fields {
		c := condExpr(f.present, sd.hull)
		if c == "false" {
			continue
		}
		if c != "" {
			g.p("if %s {", c)
		}
		g.emitWrite(f, "m."+f.name, f.present, sd.msg.flex, vec)
		if c != "" {
			g.p("}")
		}
	}
	if fc := condExpr(sd.msg.flex, sd.hull); fc != "false" {
		var tagged []*field
		for _, f := range sd.fields {
			if !f.tagPres.empty() {
				tagged = append(tagged, f)
			}
		}
		sort.Slice(tagged, func(i, j int) bool { return tagged[i].tag < tagged[j].tag })
		g.p("if flexible {")
		if len(tagged) == 0 {
			g.p("b = AppendEmptyTaggedFields(b)")
		} else {
			// KIP-482: a tagged field is written only when it differs from
			// its default, in ascending tag order.
			g.p("var tags uint32")
			for _, f := range tagged {
				if vec && (f.prim == "records" || (f.st != nil && f.st.hasRecords())) {
					// A tagged field's size precedes it, so its
					// bytes cannot be left out.
					return fmt.Errorf("%s.%s: records in a tagged field", sd.goName, f.name)
				}
				isDef, err := f.isDefaultExpr("m." + f.name)
				if err != nil {
					return fmt.Errorf("%s.%w", sd.goName, err)
				}
				cond := negate(isDef)
				// Tagged fields live in flexible versions only, which the
				// enclosing "if flexible" already checks.
				if vc := condExpr(f.tagPres, sd.hull.intersect(sd.msg.flex)); vc != "" {
					cond = vc + " && " + cond
				}
				g.p("write%s := %s", f.name, cond)
				g.p("if write%s { tags++ }", f.name)
			}
			g.p("b = AppendUvarint(b, tags)")
			for _, f := range tagged {
				g.p("if write%s {", f.name)
				g.p("b = AppendUvarint(b, %d)", f.tag)
				g.p("b = append(b, 0) // size, fixed by genTagSize")
				g.p("at := len(b)")
				g.emitWrite(f, "m."+f.name, f.tagPres, sd.msg.flex, false)
				g.p("b = genTagSize(b, at)")
				g.p("}")
			}
		}
		g.p("}")
	}
	if vec {
		g.p("return b, splices")
	} else {
		g.p("return b")
	}
	g.p("}")
	g.p("")
	return nil
}

// emitWrite appends x, the value of f, in the versions pres; with vec,
// records are left out and spliced (see emitAppend).
func (g *generator) emitWrite(f *field, x string, pres, msgFlex vrange, vec bool) {
	compact := f.compactCond(pres, msgFlex)
	// Nullability is decided separately in the compact and classic
	// branches, as each covers fewer versions.
	flexR := msgFlex
	if f.flex != nil {
		flexR = *f.flex
	}
	classicR := vrange{0, math.MaxInt16}
	if !flexR.empty() {
		classicR = vrange{0, flexR.lo - 1}
	}
	nullIn := func(compactPrefix string) string {
		if compactPrefix == "" {
			return condExpr(f.nullable, pres.intersect(classicR))
		}
		return condExpr(f.nullable, pres.intersect(flexR))
	}
	if f.array {
		lenFunc := func(fn string) func() {
			nullable := nullIn(strings.TrimSuffix(strings.TrimPrefix(fn, "Append"), "ArrayLen"))
			return func() {
				g.branch(nullable, func() {
					g.p("if %s == nil {", x)
					g.p("b = %s(b, -1)", fn)
					g.p("} else {")
					g.p("b = %s(b, len(%s))", fn, x)
					g.p("}")
				}, func() {
					g.p("b = %s(b, len(%s))", fn, x)
				})
			}
		}
		g.branch(compact, lenFunc("AppendCompactArrayLen"), lenFunc("AppendArrayLen"))
		if f.st != nil {
			g.p("for i := range %s {", x)
			if vec && f.st.hasRecords() {
				g.p("b, splices = %s[i].appendToVec(b, version, flexible, splices)", x)
			} else {
				g.p("b = %s[i].appendTo(b, version, flexible)", x)
			}
			g.p("}")
			return
		}
		g.p("for _, e := range %s {", x)
		g.emitWritePrim(f.prim, "e", compact, func(string) string { return "false" }, false, false)
		g.p("}")
		return
	}
	if f.st != nil {
		if vec && f.st.hasRecords() {
			g.p("b, splices = %s.appendToVec(b, version, flexible, splices)", x)
		} else {
			g.p("b = %s.appendTo(b, version, flexible)", x)
		}
		return
	}
	g.emitWritePrim(f.prim, x, compact, nullIn, f.isStringPtr(), vec && f.prim == "records")
}

// emitWritePrim appends x, a primitive; with splice, x's bytes are left
// out after their length and marked by a Splice.
func (g *generator) emitWritePrim(prim, x, compact string, nullIn func(string) string, ptr, splice bool) {
	if fn, ok := appendFunc[prim]; ok {
		g.p("b = %s(b, %s)", fn, x)
		return
	}
	if splice && nullIn("Compact") == nullIn("") {
		g.p("b, splices = genSplice(b, %s, %s, %s, splices)", x, boolArg(compact), boolArg(nullIn("")))
		return
	}
	kind := "Bytes"
	if prim == "string" {
		kind = "String"
	}
	call := func(compactPrefix string) func() {
		return func() {
			if splice {
				g.p("b, splices = genSplice(b, %s, %t, %s, splices)", x, compactPrefix == "Compact", boolArg(nullIn(compactPrefix)))
				return
			}
			g.branch(nullIn(compactPrefix), func() {
				g.p("b = Append%sNullable%s(b, %s)", compactPrefix, kind, x)
			}, func() {
				v := x
				if ptr {
					v = "genDeref(" + x + ")"
				}
				g.p("b = Append%s%s(b, %s)", compactPrefix, kind, v)
			})
		}
	}
	g.branch(compact, call("Compact"), call(""))
}

func (g *generator) emitRead(sd *structDef) error {
	g.p("func (m *%s) readFrom(r *Reader, version int16, flexible bool) {", sd.goName)
	g.p("*m = %s", sd.defaultLit())
	for _, f := range sd.fields {
		c := condExpr(f.present, sd.hull)
		if c == "false" {
			continue
		}
		if c != "" {
			g.p("if %s {", c)
		}
		g.emitReadField(f, "m."+f.name, "r", f.present, sd.msg.flex)
		if c != "" {
			g.p("}")
		}
	}
	if fc := condExpr(sd.msg.flex, sd.hull); fc != "false" {
		var tagged []*field
		for _, f := range sd.fields {
			if !f.tagPres.empty() {
				tagged = append(tagged, f)
			}
		}
		sort.Slice(tagged, func(i, j int) bool { return tagged[i].tag < tagged[j].tag })
		g.p("if flexible {")
		if len(tagged) == 0 {
			g.p("r.TaggedFields(nil)")
		} else {
			// KIP-482: unknown tags are skipped; a known tag is read only
			// in versions where the schema defines it.
			g.p("r.TaggedFields(func(tag uint32, data []byte) {")
			g.p("switch tag {")
			for _, f := range tagged {
				g.p("case %d:", f.tag)
				vc := condExpr(f.tagPres, sd.hull.intersect(sd.msg.flex))
				if vc != "" {
					g.p("if %s { return }", negate(vc))
				}
				g.p("sub := NewReader(data)")
				g.emitReadField(f, "m."+f.name, "sub", f.tagPres, sd.msg.flex)
				g.p("genTagDone(r, sub)")
			}
			g.p("}")
			g.p("})")
		}
		g.p("}")
	}
	g.p("}")
	g.p("")
	return nil
}

// emitReadField reads f into dst from the reader named rd, in versions pres.
func (g *generator) emitReadField(f *field, dst, rd string, pres, msgFlex vrange) {
	compact := boolArg(f.compactCond(pres, msgFlex))
	nullable := condExpr(f.nullable, pres)
	if f.array {
		var minElem string
		if f.st != nil {
			minElem = f.minSizeExpr(pres)
		} else {
			minElem = strconv.Itoa(f.elemMinSize(compact != "false"))
			if compact != "true" && compact != "false" && f.elemMinSize(true) != f.elemMinSize(false) {
				minElem = fmt.Sprintf("genIf(%s, %d, %d)", compact, f.elemMinSize(true), f.elemMinSize(false))
			}
		}
		g.p("if n := genReadArrayLen(%s, %s, %s, %s); %s {", rd, compact, boolArg(nullable), minElem, arrayCond(nullable))
		g.p("%s = make(%s, n)", dst, f.goType())
		g.p("for i := range %s {", dst)
		if f.st != nil {
			g.p("if %s.Err() != nil { break }", rd)
			g.p("%s[i].readFrom(%s, version, flexible)", dst, rd)
		} else {
			g.emitReadPrim(f.prim, dst+"[i]", rd, compact, "false", false)
		}
		g.p("}")
		g.p("}")
		return
	}
	if f.st != nil {
		g.p("%s.readFrom(%s, version, flexible)", dst, rd)
		return
	}
	g.emitReadPrim(f.prim, dst, rd, compact, boolArg(nullable), f.isStringPtr())
}

// arrayCond says when a decoded length becomes a slice: a null array stays
// nil, and an empty one is nil too unless the version can tell it from null.
func arrayCond(nullable string) string {
	switch nullable {
	case "":
		return "n >= 0"
	case "false":
		return "n > 0"
	}
	return fmt.Sprintf("n > 0 || n == 0 && (%s)", nullable)
}

func (g *generator) emitReadPrim(prim, dst, rd, compact, nullable string, ptr bool) {
	if fn, ok := readFunc[prim]; ok {
		g.p("%s = %s.%s()", dst, rd, fn)
		return
	}
	switch {
	case prim == "string" && ptr:
		g.p("%s = genReadNullableString(%s, %s, %s)", dst, rd, compact, nullable)
	case prim == "string":
		g.p("%s = genReadString(%s, %s)", dst, rd, compact)
	default:
		g.p("%s = genReadBytes(%s, %s, %s)", dst, rd, compact, nullable)
	}
}

func (g *generator) emitMinSize(sd *structDef) {
	if !sd.needMinSize {
		return
	}
	g.comment(fmt.Sprintf("minSize%s is the smallest encoding of one %s at version, the bound that keeps a hostile array length from causing a large allocation.", sd.goName, sd.goName))
	g.p("func minSize%s(version int16) int {", sd.goName)
	g.p("switch {")
	last := sd.minSize(sd.hull.hi)
	for v := sd.hull.lo; v < sd.hull.hi; v++ {
		n := sd.minSize(v)
		if n != sd.minSize(v+1) {
			g.p("case version <= %d:", v)
			g.p("return %d", n)
		}
	}
	g.p("}")
	g.p("return %d", last)
	g.p("}")
	g.p("")
}

func (g *generator) emitIsDefault(sd *structDef) error {
	if !sd.needIsDefault {
		return nil
	}
	var conds []string
	for _, f := range sd.fields {
		c, err := f.isDefaultExpr("m." + f.name)
		if err != nil {
			return fmt.Errorf("%s.%w", sd.goName, err)
		}
		conds = append(conds, c)
	}
	if len(conds) == 0 {
		conds = []string{"true"}
	}
	g.p("// isDefault reports whether every field of m has its default, in which")
	g.p("// case m is left out of a tagged-field section.")
	g.p("func (m *%s) isDefault() bool {", sd.goName)
	g.p("return %s", strings.Join(conds, " &&\n"))
	g.p("}")
	g.p("")
	return nil
}

// prepare finds which structs need isDefault and minSize helpers, before
// anything is emitted, as a struct can be emitted before a later message
// that shares it is looked at.
func (g *generator) prepare() error {
	for _, m := range g.msgs {
		for _, sd := range append([]*structDef{m.top}, m.structs...) {
			for _, f := range sd.fields {
				if !f.tagPres.empty() {
					if _, err := f.isDefaultExpr("x"); err != nil {
						return fmt.Errorf("%s.%w", sd.goName, err)
					}
				}
				if f.st == nil || !f.array {
					continue
				}
				for _, pres := range []vrange{f.present, f.tagPres} {
					if !pres.empty() && strings.HasPrefix(f.minSizeExpr(pres), "minSize") {
						f.st.needMinSize = true
					}
				}
			}
		}
	}
	return nil
}

func (g *generator) emitHelpers() {
	if g.usePtr {
		g.p("func genPtr(s string) *string { return &s }")
		g.p("")
	}
	g.p(`// genSplice appends the length of v as its compact or classic, nullable
// or plain, bytes encoding would, and marks v's place with a Splice instead
// of appending v.
func genSplice(b, v []byte, compact, nullable bool, splices []Splice) ([]byte, []Splice) {
	switch {
	case v == nil && nullable && compact:
		b = append(b, 0)
	case v == nil && nullable:
		b = AppendInt32(b, -1)
	case compact:
		b = AppendUvarint(b, uint32(len(v))+1)
	default:
		b = AppendInt32(b, int32(len(v)))
	}
	if len(v) > 0 {
		splices = append(splices, Splice{At: len(b), Bytes: v})
	}
	return b, splices
}
`)
	g.p(`// genDeref writes a nil string as "" in versions where the field is not
// nullable.
func genDeref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func genIf(c bool, a, b int) int {
	if c {
		return a
	}
	return b
}

// genTagSize writes the size of the tagged field that starts at at into the
// byte reserved before it, widening the varint when the field is 128 bytes
// or more. Reserving one byte and patching it keeps encoding in one pass.
func genTagSize(b []byte, at int) []byte {
	size := uint32(len(b) - at)
	n := UvarintLen(size)
	if n == 1 {
		b[at-1] = byte(size)
		return b
	}
	for i := 1; i < n; i++ {
		b = append(b, 0)
	}
	copy(b[at-1+n:], b[at:len(b)-(n-1)])
	AppendUvarint(b[:at-1], size)
	return b
}

// genTagDone moves the error of a tagged field's reader, or its unread
// bytes, into the message's reader.
func genTagDone(r, sub *Reader) {
	if err := sub.Complete(); err != nil {
		r.Fail(err)
	}
}

// genReadString reads a string that must not be null; null fails with
// ErrInvalidLength, as Kafka's own readers refuse it.
func genReadString(r *Reader, compact bool) string {
	var s *string
	if compact {
		s = r.CompactNullableString()
	} else {
		s = r.NullableString()
	}
	if s == nil {
		if r.Err() == nil {
			r.Fail(ErrInvalidLength)
		}
		return ""
	}
	return *s
}

// genReadNullableString reads a string field held as *string. In versions
// where the field is not nullable, null fails and a value is never nil.
func genReadNullableString(r *Reader, compact, nullable bool) *string {
	if !nullable {
		s := genReadString(r, compact)
		if r.Err() != nil {
			return nil
		}
		return &s
	}
	if compact {
		return r.CompactNullableString()
	}
	return r.NullableString()
}

// genReadBytes reads bytes; null is nil where nullable and an error
// elsewhere. The result aliases the reader's input.
func genReadBytes(r *Reader, compact, nullable bool) []byte {
	var b []byte
	if compact {
		b = r.CompactBytes()
	} else {
		b = r.Bytes()
	}
	if b == nil && !nullable && r.Err() == nil {
		r.Fail(ErrInvalidLength)
	}
	return b
}

// genReadArrayLen reads an array length checked against the bytes left
// for elements of at least minElem bytes. It returns -1 for null (where
// nullable) and on any error, so callers allocate only for a sane length.
func genReadArrayLen(r *Reader, compact, nullable bool, minElem int) int {
	var n int
	if compact {
		n = r.CompactArrayLen(minElem)
	} else {
		n = r.ArrayLen(minElem)
	}
	if r.Err() != nil {
		return -1
	}
	if n < 0 && !nullable {
		r.Fail(ErrInvalidLength)
	}
	return n
}`)
}
