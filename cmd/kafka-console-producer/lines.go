package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kpgo/kafka"
)

// lineReader reads input one line at a time with no limit but its own:
// a line longer than max bytes is skipped (without being buffered) and
// reported, so one bad line cannot exhaust memory or stop the others.
type lineReader struct {
	r    *bufio.Reader
	max  int
	buf  []byte
	line int // number of the last line returned, from 1
	eof  bool
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// errLineTooLong is returned, wrapped with the line's length, for a line
// longer than the reader's limit; the next call reads the next line.
var errLineTooLong = errors.New("line too long")

// next returns the next line without its "\n" or "\r\n". The slice is
// valid until the following call. A last line without a newline is a
// line; io.EOF follows it. A line longer than the limit returns an error
// wrapping errLineTooLong, and the next call goes on with the next line.
func (lr *lineReader) next() ([]byte, error) {
	if lr.eof {
		return nil, io.EOF
	}
	lr.buf = lr.buf[:0]
	n := 0             // bytes of the line, terminator included
	var last [2]byte   // the line's last two bytes
	keep := lr.max + 2 // room for a line of max bytes and its "\r\n"
	for {
		chunk, err := lr.r.ReadSlice('\n')
		n += len(chunk)
		for _, c := range chunk[max(0, len(chunk)-2):] {
			last[0], last[1] = last[1], c
		}
		if room := keep - len(lr.buf); room > 0 {
			lr.buf = append(lr.buf, chunk[:min(room, len(chunk))]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			lr.eof = true
			if n == 0 {
				return nil, io.EOF
			}
		} else if err != nil {
			return nil, err
		}
		break
	}
	lr.line++
	size := n
	if last[1] == '\n' {
		size--
		if n >= 2 && last[0] == '\r' {
			size--
		}
	}
	if size > lr.max {
		return nil, fmt.Errorf("%w: %d bytes, more than max.request.size (%d); not sent", errLineTooLong, size, lr.max)
	}
	return lr.buf[:size], nil
}

// lineFormat is how a line splits into headers, key and value: the
// properties of Kafka's LineMessageReader, applied to bytes so that input
// that is not UTF-8 is sent unchanged.
//
//	parse.headers=true, parse.key=true:  h1:v1,h2:v2<TAB>key<TAB>value
type lineFormat struct {
	parseKey      bool
	keySep        []byte
	parseHeaders  bool
	headersDelim  []byte
	headersSep    []byte
	headersKeySep []byte
	ignoreError   bool
	nullMarker    []byte // nil when null.marker is not set
}

// Defaults are LineMessageReader's.
func defaultLineFormat() lineFormat {
	return lineFormat{
		keySep:        []byte("\t"),
		headersDelim:  []byte("\t"),
		headersSep:    []byte(","),
		headersKeySep: []byte(":"),
	}
}

// readerProperties are the --property names the line format knows;
// others are warned about and ignored, as Kafka passes them on to a
// custom reader class.
var readerProperties = map[string]func(f *lineFormat, v string){
	"parse.key":             func(f *lineFormat, v string) { f.parseKey = isTrue(v) },
	"key.separator":         func(f *lineFormat, v string) { f.keySep = []byte(v) },
	"parse.headers":         func(f *lineFormat, v string) { f.parseHeaders = isTrue(v) },
	"headers.delimiter":     func(f *lineFormat, v string) { f.headersDelim = []byte(v) },
	"headers.separator":     func(f *lineFormat, v string) { f.headersSep = []byte(v) },
	"headers.key.separator": func(f *lineFormat, v string) { f.headersKeySep = []byte(v) },
	"ignore.error":          func(f *lineFormat, v string) { f.ignoreError = isTrue(v) },
	"null.marker":           func(f *lineFormat, v string) { f.nullMarker = []byte(v) },
}

// isTrue follows LineMessageReader: "true" in any case, anything else is
// false.
func isTrue(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// check refuses separators that would make lines ambiguous, as
// LineMessageReader.configure does.
func (f *lineFormat) check() error {
	type named struct {
		name string
		v    []byte
	}
	pairs := [][2]named{
		{{"headers.delimiter", f.headersDelim}, {"headers.separator", f.headersSep}},
		{{"headers.delimiter", f.headersDelim}, {"headers.key.separator", f.headersKeySep}},
		{{"headers.separator", f.headersSep}, {"headers.key.separator", f.headersKeySep}},
	}
	if f.nullMarker != nil {
		m := named{"null.marker", f.nullMarker}
		pairs = append(pairs,
			[2]named{m, {"key.separator", f.keySep}},
			[2]named{m, {"headers.separator", f.headersSep}},
			[2]named{m, {"headers.delimiter", f.headersDelim}},
			[2]named{m, {"headers.key.separator", f.headersKeySep}})
	}
	for _, p := range pairs {
		if bytes.Equal(p[0].v, p[1].v) {
			return fmt.Errorf("%s and %s may not be equal (both %s)", p[0].name, p[1].name, strconv.Quote(string(p[0].v)))
		}
	}
	// An empty separator would match everywhere.
	for _, n := range []named{{"key.separator", f.keySep}, {"headers.delimiter", f.headersDelim},
		{"headers.separator", f.headersSep}, {"headers.key.separator", f.headersKeySep}} {
		if len(n.v) == 0 {
			return fmt.Errorf("%s may not be empty", n.name)
		}
	}
	return nil
}

// parse splits line into a record's parts. Key, value and headers may
// alias line. A part equal to null.marker is null; an empty part is
// empty, not null.
func (f *lineFormat) parse(line []byte) (key, value []byte, headers []kafka.Header, err error) {
	off := 0
	var rawHeaders []byte
	hasHeaders := false
	if f.parseHeaders {
		if i := bytes.Index(line, f.headersDelim); i >= 0 {
			rawHeaders, hasHeaders = line[:i], true
			off = i + len(f.headersDelim)
		} else if !f.ignoreError {
			return nil, nil, nil, fmt.Errorf("no headers delimiter %s found", strconv.Quote(string(f.headersDelim)))
		}
	}
	if f.parseKey {
		if i := bytes.Index(line[off:], f.keySep); i >= 0 {
			key = f.orNull(line[off : off+i])
			off += i + len(f.keySep)
		} else if !f.ignoreError {
			return nil, nil, nil, fmt.Errorf("no key separator %s found", strconv.Quote(string(f.keySep)))
		}
	}
	value = f.orNull(line[off:])
	if hasHeaders && !f.isNull(rawHeaders) {
		if headers, err = f.splitHeaders(rawHeaders); err != nil {
			return nil, nil, nil, err
		}
	}
	return key, value, headers, nil
}

// splitHeaders parses "k1:v1,k2:v2". Like Kafka's regex split, it drops
// empty trailing pairs; unlike it, an empty list is no headers rather
// than an error, and headers.separator is a plain string, not a regular
// expression.
func (f *lineFormat) splitHeaders(raw []byte) ([]kafka.Header, error) {
	pairs := bytes.Split(raw, f.headersSep)
	for len(pairs) > 0 && len(pairs[len(pairs)-1]) == 0 {
		pairs = pairs[:len(pairs)-1]
	}
	headers := make([]kafka.Header, 0, len(pairs))
	for _, pair := range pairs {
		i := bytes.Index(pair, f.headersKeySep)
		if i < 0 {
			if f.ignoreError {
				headers = append(headers, kafka.Header{Key: string(pair)})
				continue
			}
			return nil, fmt.Errorf("no header key separator %s found in %s", strconv.Quote(string(f.headersKeySep)), strconv.Quote(string(pair)))
		}
		if f.isNull(pair[:i]) {
			return nil, fmt.Errorf("header key %s equals null.marker; header keys cannot be null", strconv.Quote(string(pair[:i])))
		}
		headers = append(headers, kafka.Header{Key: string(pair[:i]), Value: f.orNull(pair[i+len(f.headersKeySep):])})
	}
	return headers, nil
}

func (f *lineFormat) isNull(b []byte) bool {
	return f.nullMarker != nil && bytes.Equal(b, f.nullMarker)
}

// orNull returns nil for the null marker and a non-nil slice otherwise,
// so that an empty field stays an empty (not a null) key or value.
func (f *lineFormat) orNull(b []byte) []byte {
	if f.isNull(b) {
		return nil
	}
	if b == nil {
		return []byte{}
	}
	return b
}
