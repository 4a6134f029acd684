package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
)

// property is one key=value pair of a properties file or a command line,
// kept in the order given so that a later setting wins.
type property struct {
	key, value string
}

// loadPropertiesFile reads a Java properties file, as --producer.config
// and --reader-config take them.
func loadPropertiesFile(path string) ([]property, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	props, err := parseProperties(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return props, nil
}

// parseProperties parses text in the format of java.util.Properties.load:
// '#' and '!' start comment lines; the key ends at the first unescaped
// '=', ':' or blank, and blanks around that separator are dropped; a line
// ending in an odd number of backslashes continues on the next one, whose
// leading blanks are dropped; \t \n \r \f \uXXXX and \<any> are escapes.
// Files are read as UTF-8 rather than Java's ISO-8859-1, which is the
// same for the ASCII that producer settings are written in.
func parseProperties(text string) ([]property, error) {
	var props []property
	lines := splitNaturalLines(text)
	for i := 0; i < len(lines); i++ {
		lineNo := i + 1
		line := strings.TrimLeft(lines[i], " \t\f")
		if line == "" || line[0] == '#' || line[0] == '!' {
			// A comment line never continues, even if it ends in '\'.
			continue
		}
		// Join continuation lines into one logical line.
		for continues(line) && i+1 < len(lines) {
			i++
			line = line[:len(line)-1] + strings.TrimLeft(lines[i], " \t\f")
		}
		if continues(line) {
			// A backslash at the very end of the file is dropped.
			line = line[:len(line)-1]
		}
		key, value := splitKeyValue(line)
		k, err := unescape(key)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		v, err := unescape(value)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		props = append(props, property{k, v})
	}
	return props, nil
}

// splitNaturalLines splits at \n, \r and \r\n, the line terminators
// Properties.load accepts.
func splitNaturalLines(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	return strings.Split(text, "\n")
}

// continues reports whether line ends in an odd number of backslashes.
func continues(line string) bool {
	n := 0
	for i := len(line) - 1; i >= 0 && line[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// splitKeyValue splits a logical line (leading blanks removed) into its
// still escaped key and value.
func splitKeyValue(line string) (key, value string) {
	end := len(line)
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c == '\\' {
			i++ // the escaped character belongs to the key
			continue
		}
		if c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f' {
			end = i
			break
		}
	}
	key = line[:end]
	rest := strings.TrimLeft(line[end:], " \t\f")
	// One '=' or ':' may follow blanks that ended the key.
	if rest != "" && (rest[0] == '=' || rest[0] == ':') {
		rest = strings.TrimLeft(rest[1:], " \t\f")
	}
	return key, rest
}

func unescape(s string) (string, error) {
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) {
			b.WriteByte(c)
			continue
		}
		i++
		switch c = s[i]; c {
		case 't':
			b.WriteByte('\t')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			if i+5 > len(s) {
				return "", fmt.Errorf("malformed \\uxxxx escape in %q", s)
			}
			r, err := strconv.ParseUint(s[i+1:i+5], 16, 16)
			if err != nil {
				return "", fmt.Errorf("malformed \\uxxxx escape in %q", s)
			}
			i += 4
			// Java strings are UTF-16: a character outside the BMP is
			// written as two escapes, a surrogate pair.
			if utf16.IsSurrogate(rune(r)) && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
				if lo, err := strconv.ParseUint(s[i+3:i+7], 16, 16); err == nil {
					if dr := utf16.DecodeRune(rune(r), rune(lo)); dr != unicode.ReplacementChar {
						b.WriteRune(dr)
						i += 6
						continue
					}
				}
			}
			b.WriteRune(rune(r))
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
