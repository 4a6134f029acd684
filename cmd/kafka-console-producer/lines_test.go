package main

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/require"

	"github.com/kpgo/kafka"
)

func TestParseProperties(t *testing.T) {
	text := "# comment \\\n" + // a comment does not continue
		"a=1\n" +
		"  ! also a comment\n" +
		"\n" +
		"b = 2 \n" + // trailing blanks are part of the value
		"c:3\r\n" +
		"d 4\r" +
		"e\t=\t5\n" +
		"f\n" + // a key alone has an empty value
		"g=x\\\n   y\\\n\tz\n" +
		"h\\=i\\:j=k\\tl\\\\\n" + // escaped separators belong to the key
		"u=\\u00e9\\uD83D\\uDE00\\q\n" +
		"last=\\"
	props, err := parseProperties(text)
	require.NoError(t, err)
	require.Equal(t, []property{
		{"a", "1"}, {"b", "2 "}, {"c", "3"}, {"d", "4"}, {"e", "5"}, {"f", ""},
		{"g", "xyz"}, {"h=i:j", "k\tl\\"}, {"u", "é😀q"}, {"last", ""},
	}, props)

	_, err = parseProperties("x=\\u12\n")
	require.ErrorContains(t, err, "line 1: malformed")
}

func TestLineReader(t *testing.T) {
	input := "a\r\n\nccc\n" + strings.Repeat("d", 10) + "\n" + strings.Repeat("e", 11) + "\r\n" +
		strings.Repeat("f", 100_000) + "\n" + "x\ry\n" + "tail"
	// One byte at a time, so that every line crosses reads.
	lr := newLineReader(iotest.OneByteReader(strings.NewReader(input)), 10)
	var got []string
	for {
		b, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, errLineTooLong) {
			got = append(got, "too long: "+err.Error())
			continue
		}
		require.NoError(t, err)
		got = append(got, string(b))
	}
	require.Equal(t, []string{
		"a", "", "ccc", strings.Repeat("d", 10),
		"too long: line too long: 11 bytes, more than max.request.size (10); not sent",
		"too long: line too long: 100000 bytes, more than max.request.size (10); not sent",
		"x\ry", "tail",
	}, got)
	require.Equal(t, 8, lr.line)
	_, err := lr.next()
	require.ErrorIs(t, err, io.EOF)

	// An empty input has no lines; a lone newline has one empty line.
	_, err = newLineReader(strings.NewReader(""), 10).next()
	require.ErrorIs(t, err, io.EOF)
	lr = newLineReader(strings.NewReader("\n"), 10)
	b, err := lr.next()
	require.NoError(t, err)
	require.Empty(t, b)
	_, err = lr.next()
	require.ErrorIs(t, err, io.EOF)
}

func TestLineFormat(t *testing.T) {
	f := defaultLineFormat()
	k, v, h, err := f.parse([]byte("a\tb"))
	require.NoError(t, err)
	require.Nil(t, k, "parse.key is off")
	require.Equal(t, "a\tb", string(v))
	require.Nil(t, h)

	f.parseKey, f.parseHeaders = true, true
	_, _, _, err = f.parse([]byte("h:1\tno key separator"))
	require.ErrorContains(t, err, `no key separator "\t" found`)
	_, _, _, err = f.parse([]byte("no delimiter"))
	require.ErrorContains(t, err, `no headers delimiter "\t" found`)
	_, _, _, err = f.parse([]byte("h1:1,,h2:2\tk\tv"))
	require.ErrorContains(t, err, `no header key separator ":" found in ""`)

	f.nullMarker = []byte("N")
	_, _, _, err = f.parse([]byte("N:1\tk\tv"))
	require.ErrorContains(t, err, "header keys cannot be null")

	// ignore.error, as in Kafka: a missing part is null, and a header
	// without a key separator has a null value.
	f.ignoreError = true
	k, v, h, err = f.parse([]byte("hk\tv"))
	require.NoError(t, err)
	require.Nil(t, k)
	require.Equal(t, "v", string(v))
	require.Equal(t, []kafka.Header{{Key: "hk"}}, h)
	k, v, h, err = f.parse([]byte("plain"))
	require.NoError(t, err)
	require.Nil(t, k)
	require.Equal(t, "plain", string(v))
	require.Nil(t, h)
}
