package main

import (
	"fmt"
	"io"
	"strings"
)

// argKind says whether a flag takes a value.
type argKind int

const (
	noArg       argKind = iota // --sync
	requiredArg                // --topic t, --topic=t
	optionalArg                // --compression-codec [codec]
)

// flagSpec describes one command-line flag. Flags that stand for a
// producer setting name it in prop, with Kafka's console-producer default.
type flagSpec struct {
	name string
	arg  argKind
	meta string // what the value is, for --help
	help string
	prop string // producer property the flag sets, if any
	def  string // the default of prop when neither flag nor property sets it
}

// flagSpecs are kafka-console-producer's flags, with its names and
// defaults (tools/.../ConsoleProducer.java), plus --print-offsets.
var flagSpecs = []flagSpec{
	{name: "bootstrap-server", arg: requiredArg, meta: "host:port,...", help: "REQUIRED (here or as bootstrap.servers in the producer properties): the brokers to connect to."},
	{name: "topic", arg: requiredArg, meta: "topic", help: "REQUIRED: the topic to produce records to."},
	{name: "producer-property", arg: requiredArg, meta: "key=value", help: "A producer property (kafka-python, Java or librdkafka name); repeatable. Takes precedence over --producer.config."},
	{name: "producer.config", arg: requiredArg, meta: "file", help: "A producer properties file (Java properties format)."},
	{name: "property", arg: requiredArg, meta: "key=value", help: "A line-reader property; repeatable. See \"Line format\" below."},
	{name: "reader-config", arg: requiredArg, meta: "file", help: "A line-reader properties file; --property takes precedence."},
	{name: "compression-codec", arg: optionalArg, meta: "codec", help: "none, gzip, snappy, lz4 or zstd; gzip when given without a value. Default: compression.type of the producer properties, else none."},
	{name: "request-required-acks", arg: requiredArg, meta: "acks", help: "The acks of produce requests: 0, 1, -1 or all.", prop: "acks", def: "-1"},
	{name: "sync", arg: noArg, help: "Send records one at a time, waiting for each to be acknowledged."},
	{name: "batch-size", arg: requiredArg, meta: "bytes", help: "batch.size of the producer.", prop: "batch.size", def: "16384"},
	{name: "max-partition-memory-bytes", arg: requiredArg, meta: "bytes", help: "batch.size of the producer; wins over --batch-size.", prop: "batch.size", def: "16384"},
	{name: "timeout", arg: requiredArg, meta: "ms", help: "How long a batch waits for more records (linger.ms).", prop: "linger.ms", def: "1000"},
	{name: "max-block-ms", arg: requiredArg, meta: "ms", help: "How long a send waits for metadata or buffer space (max.block.ms).", prop: "max.block.ms", def: "60000"},
	{name: "message-send-max-retries", arg: requiredArg, meta: "n", help: "How many times a failed batch is retried (retries).", prop: "retries", def: "3"},
	{name: "retry-backoff-ms", arg: requiredArg, meta: "ms", help: "The wait before a retry (retry.backoff.ms).", prop: "retry.backoff.ms", def: "100"},
	{name: "request-timeout-ms", arg: requiredArg, meta: "ms", help: "How long to wait for a broker's answer (request.timeout.ms).", prop: "request.timeout.ms", def: "1500"},
	{name: "metadata-expiry-ms", arg: requiredArg, meta: "ms", help: "Refresh metadata at least this often (metadata.max.age.ms).", prop: "metadata.max.age.ms", def: "300000"},
	{name: "max-memory-bytes", arg: requiredArg, meta: "bytes", help: "Memory for records waiting to be sent (buffer.memory).", prop: "buffer.memory", def: "33554432"},
	{name: "print-offsets", arg: noArg, help: "Print \"topic partition offset\" for each acknowledged record, in input order (offset -1 with acks=0)."},
	{name: "help", arg: noArg, help: "Print this help and exit."},
}

// parsedFlags holds the values given for each flag, in order.
type parsedFlags map[string][]string

func (p parsedFlags) has(name string) bool { return len(p[name]) > 0 }

// last returns the flag's last value: like joptsimple, a flag given twice
// takes its last value unless it is repeatable.
func (p parsedFlags) last(name string) string {
	v := p[name]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// parseFlags accepts "--name value" and "--name=value", a single dash
// as well as two, and, as Kafka's joptsimple parser does, any unambiguous
// prefix of a name ("--bootstrap" for --bootstrap-server).
func parseFlags(args []string) (parsedFlags, error) {
	out := parsedFlags{}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || !strings.HasPrefix(a, "-") || a == "-" {
			return nil, fmt.Errorf("unexpected argument %q: records are read from standard input", a)
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		value, hasValue := "", false
		if j := strings.IndexByte(name, '='); j >= 0 {
			name, value, hasValue = name[:j], name[j+1:], true
		}
		spec, err := lookupFlag(name)
		if err != nil {
			return nil, err
		}
		switch spec.arg {
		case noArg:
			if hasValue {
				return nil, fmt.Errorf("--%s takes no value", spec.name)
			}
		case requiredArg:
			if !hasValue {
				if i+1 == len(args) {
					return nil, fmt.Errorf("--%s needs a value (%s)", spec.name, spec.meta)
				}
				i++
				value = args[i]
			}
		case optionalArg:
			// The next argument is the value unless it is another flag.
			if !hasValue && i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				i++
				value = args[i]
			}
		}
		out[spec.name] = append(out[spec.name], value)
	}
	return out, nil
}

func lookupFlag(name string) (*flagSpec, error) {
	if name == "h" {
		name = "help"
	}
	var match *flagSpec
	var candidates []string
	for i := range flagSpecs {
		s := &flagSpecs[i]
		if s.name == name {
			return s, nil
		}
		if name != "" && strings.HasPrefix(s.name, name) {
			match = s
			candidates = append(candidates, "--"+s.name)
		}
	}
	switch len(candidates) {
	case 0:
		return nil, fmt.Errorf("unknown flag --%s", name)
	case 1:
		return match, nil
	}
	return nil, fmt.Errorf("flag --%s is ambiguous: %s", name, strings.Join(candidates, ", "))
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: kafka-console-producer --bootstrap-server HOST:PORT --topic TOPIC [flags] < records

Reads records from standard input, one per line, and sends them to Kafka.
Exits 0 when every record was acknowledged, 1 when any failed (each failure
is reported on standard error with its line number), 2 on a usage error.

Flags:
`)
	for _, s := range flagSpecs {
		arg := ""
		switch s.arg {
		case requiredArg:
			arg = " " + s.meta
		case optionalArg:
			arg = " [" + s.meta + "]"
		}
		fmt.Fprintf(w, "  --%s%s\n      %s", s.name, arg, s.help)
		if s.def != "" {
			fmt.Fprintf(w, " Default: %s.", s.def)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, `
Line format (--property, Kafka's LineMessageReader):
  parse.key=false           a key precedes the value, ended by key.separator
  key.separator=<TAB>
  parse.headers=false       headers precede the key or value, ended by headers.delimiter
  headers.delimiter=<TAB>
  headers.separator=,       between headers
  headers.key.separator=:   between a header's key and value
  null.marker=              a key, value or header value equal to this is null
  ignore.error=false        a line missing a separator is sent as best it can be
  With both: h1:v1,h2:v2<TAB>key<TAB>value
`)
}
