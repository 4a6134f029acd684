// Command kafka-console-producer reads records from standard input, one
// per line, and sends them to Kafka. It takes the flags of Kafka's own
// kafka-console-producer, so scripts and habits carry over:
//
//	kafka-console-producer --bootstrap-server localhost:9092 --topic events \
//	    --property parse.key=true --property key.separator=: < records.txt
//
// It exits 0 only when every record was acknowledged; each record that
// failed is reported on standard error with its line number, and the
// exit code is then 1. Usage errors exit 2. See --help for every flag.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/kpgo/kafka"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first signal stops reading and flushes what was read; restoring
	// the default handling lets a second one end the process at once.
	go func() { <-ctx.Done(); stop() }()
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1 // a record was not acknowledged, or input could not be read
	exitUsage       = 2
	exitInterrupted = 130 // 128+SIGINT, as shells report it
)

// run is the whole command, with its environment passed in so tests can
// call it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	s, err := configure(args)
	if errors.Is(err, errHelp) {
		printUsage(stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "kafka-console-producer: %v\nRun kafka-console-producer --help for usage.\n", err)
		return exitUsage
	}
	for _, w := range s.warnings {
		fmt.Fprintf(stderr, "kafka-console-producer: warning: %s\n", w)
	}
	p, err := kafka.NewProducer(s.opts...)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-console-producer: %v\n", err)
		return exitUsage
	}
	return s.produce(ctx, p, stdin, stdout, stderr)
}

// outcome is what became of one input line, reported in input order.
type outcome struct {
	line int
	fut  kafka.Future // valid when err is nil and note is empty
	err  error        // the record was not sent
	note string       // a message that is not about one record
}

// produce sends every line of stdin and reports each outcome.
func (s *setup) produce(ctx context.Context, p *kafka.Producer, stdin io.Reader, stdout, stderr io.Writer) int {
	results := make(chan outcome, 1024)
	failures := make(chan int, 1)
	go func() { failures <- report(results, stdout, stderr, s.printOffsets) }()

	lines, next, quit := readLines(newLineReader(stdin, s.maxLineSize))
	interrupted, stopped := false, false
read:
	for {
		if ctx.Err() != nil {
			interrupted = true
			break read
		}
		var m lineMsg
		select {
		case m = <-lines:
		case <-ctx.Done():
			interrupted = true
			break read
		}
		switch {
		case errors.Is(m.err, io.EOF):
			break read
		case errors.Is(m.err, errLineTooLong):
			results <- outcome{line: m.n, err: m.err}
			next <- struct{}{}
			continue
		case m.err != nil:
			results <- outcome{note: fmt.Sprintf("kafka-console-producer: reading input after line %d: %v", m.n, m.err)}
			stopped = true
			break read
		}
		key, value, headers, err := s.format.parse(m.line)
		if err != nil {
			results <- outcome{line: m.n, err: err}
			next <- struct{}{}
			continue
		}
		fut, err := p.Send(ctx, kafka.Record{Topic: s.topic, Key: key, Value: value, Headers: headers})
		// Send has copied the record; the reader may reuse its buffer.
		next <- struct{}{}
		if err != nil {
			results <- outcome{line: m.n, err: err}
			if ctx.Err() != nil {
				interrupted = true
				break read
			}
			if !recordOnly(err) {
				// The same error would meet every later line (their topic
				// is this one), each after max.block.ms: stop here.
				results <- outcome{note: fmt.Sprintf("kafka-console-producer: stopped at line %d; the rest of the input was not sent", m.n)}
				stopped = true
				break read
			}
			continue
		}
		if s.sync {
			// Flush rather than wait: a lone record would otherwise sit
			// out linger.ms (--timeout, 1 s by default) every time.
			_ = p.Flush(ctx)
		}
		results <- outcome{line: m.n, fut: fut}
	}
	close(quit)
	if interrupted {
		results <- outcome{note: "kafka-console-producer: interrupted; sending the records read so far"}
	}
	// Close sends what is buffered and returns when every record is
	// acknowledged or has failed, which delivery.timeout.ms bounds.
	_ = p.Close(context.WithoutCancel(ctx))
	close(results)
	switch failed := <-failures; {
	case failed > 0 || stopped:
		return exitFailed
	case interrupted:
		return exitInterrupted
	}
	return exitOK
}

// recordOnly reports whether a Send error concerns only its own record,
// so that the lines after it may still be sent.
func recordOnly(err error) bool {
	return errors.Is(err, kafka.ErrRecordTooLarge) || errors.Is(err, kafka.ErrInvalidRecord) ||
		errors.Is(err, kafka.ErrUnknownPartition) || errors.Is(err, kafka.ErrSerialization)
}

// lineMsg is one line from the reading goroutine.
type lineMsg struct {
	n    int
	line []byte
	err  error
}

// readLines reads lines on a goroutine of its own, so that an interrupt
// is seen while stdin blocks. After each line other than the last, the
// goroutine waits on next before it reuses its buffer; closing quit
// makes it return.
func readLines(lr *lineReader) (lines <-chan lineMsg, next chan<- struct{}, quit chan struct{}) {
	l, n, q := make(chan lineMsg), make(chan struct{}), make(chan struct{})
	go func() {
		for {
			b, err := lr.next()
			select {
			case l <- lineMsg{n: lr.line, line: b, err: err}:
			case <-q:
				return
			}
			if err != nil && !errors.Is(err, errLineTooLong) {
				return
			}
			select {
			case <-n:
			case <-q:
				return
			}
		}
	}()
	return l, n, q
}

// report prints outcomes in input order as they are known: offsets on
// stdout with --print-offsets, failures on stderr. It returns the number
// of records that failed.
func report(results <-chan outcome, stdout, stderr io.Writer, printOffsets bool) int {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	failed := 0
	for o := range results {
		switch {
		case o.note != "":
			out.Flush()
			fmt.Fprintln(stderr, o.note)
		case o.err != nil:
			failed++
			out.Flush()
			fmt.Fprintf(stderr, "line %d: %v\n", o.line, o.err)
		default:
			if !o.fut.IsDone() {
				out.Flush() // show what is known before waiting
			}
			// Every future completes: delivery.timeout.ms bounds it, and
			// Close fails what is left.
			md, err := o.fut.Get(context.Background())
			if err != nil {
				failed++
				out.Flush()
				fmt.Fprintf(stderr, "line %d: %v\n", o.line, err)
				continue
			}
			if printOffsets {
				fmt.Fprintf(out, "%s %d %d\n", md.Topic, md.Partition, md.Offset)
			}
		}
	}
	return failed
}

// setup is what the command line asks for.
type setup struct {
	topic        string
	opts         []kafka.Option
	format       lineFormat
	maxLineSize  int
	sync         bool
	printOffsets bool
	warnings     []string
}

var errHelp = errors.New("help requested")

// ignoredProperties are producer properties that Kafka's tool sets itself
// or that mean nothing here; a config file written for it may hold them.
// They are skipped only when the library does not know them. Keys are
// normalized names.
var ignoredProperties = map[string]func(v string) bool{
	"key_serializer":    func(string) bool { return true }, // records are bytes
	"value_serializer":  func(string) bool { return true },
	"security_protocol": func(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "PLAINTEXT") },
}

// configure turns the command line into a setup. Producer settings are
// applied from weakest to strongest, as Kafka's ConsoleProducer merges
// them: the tool's defaults, then --producer.config, then
// --producer-property, then the flags that name a setting.
func configure(args []string) (*setup, error) {
	f, err := parseFlags(args)
	if err != nil {
		return nil, err
	}
	if f.has("help") {
		return nil, errHelp
	}
	s := &setup{topic: f.last("topic"), sync: f.has("sync"), printOffsets: f.has("print-offsets")}
	if !f.has("topic") {
		return nil, errors.New("--topic is required")
	}
	if err := kafka.ValidateTopic(s.topic); err != nil {
		return nil, fmt.Errorf("--topic: %w", err)
	}

	var props []property
	if f.has("producer.config") {
		if props, err = loadPropertiesFile(f.last("producer.config")); err != nil {
			return nil, fmt.Errorf("--producer.config: %w", err)
		}
	}
	for _, kv := range f["producer-property"] {
		p, err := splitKV("--producer-property", kv)
		if err != nil {
			return nil, err
		}
		props = append(props, p)
	}

	brokers := strings.Trim(f.last("bootstrap-server"), ", ") != ""
	for _, p := range props {
		if n := normalize(p.key); n == "bootstrap_servers" || n == "metadata_broker_list" {
			brokers = brokers || strings.Trim(p.value, ", ") != ""
		}
	}
	if !brokers {
		return nil, errors.New("no brokers given: use --bootstrap-server HOST:PORT[,HOST:PORT...] " +
			"(this tool sends to a real cluster; it does not start one)")
	}

	s.opts = append(s.opts, kafka.ClientID("console-producer"))
	for _, spec := range flagSpecs {
		if spec.prop != "" && !f.has(spec.name) {
			opt, err := propertyOption(spec.prop, spec.def)
			if err != nil {
				return nil, fmt.Errorf("default of --%s: %w", spec.name, err)
			}
			s.opts = append(s.opts, opt)
		}
	}
	for _, p := range props {
		opt, err := propertyOption(p.key, p.value)
		if err != nil {
			if ignore := ignoredProperties[normalize(p.key)]; ignore != nil && ignore(p.value) {
				continue
			}
			return nil, err
		}
		s.opts = append(s.opts, opt)
	}
	for _, spec := range flagSpecs {
		if spec.prop != "" && f.has(spec.name) {
			opt, err := propertyOption(spec.prop, f.last(spec.name))
			if err != nil {
				return nil, fmt.Errorf("--%s: %w", spec.name, err)
			}
			s.opts = append(s.opts, opt)
		}
	}
	if strings.Trim(f.last("bootstrap-server"), ", ") != "" {
		s.opts = append(s.opts, kafka.BootstrapServers(f.last("bootstrap-server")))
	}
	if f.has("compression-codec") {
		// Kafka's tool sets compression.type to none when the flag is
		// absent, overriding the properties; here the properties decide
		// then.
		codec := f.last("compression-codec")
		if codec == "" {
			codec = "gzip"
		}
		s.opts = append(s.opts, kafka.CompressionType(strings.ToLower(codec)))
	}
	s.maxLineSize = kafka.MaxRequestSizeOf(s.opts...)

	s.format = defaultLineFormat()
	var readerProps []property
	if f.has("reader-config") {
		if readerProps, err = loadPropertiesFile(f.last("reader-config")); err != nil {
			return nil, fmt.Errorf("--reader-config: %w", err)
		}
	}
	for _, kv := range f["property"] {
		p, err := splitKV("--property", kv)
		if err != nil {
			return nil, err
		}
		readerProps = append(readerProps, p)
	}
	for _, p := range readerProps {
		set, ok := readerProperties[p.key]
		if !ok {
			s.warnings = append(s.warnings, fmt.Sprintf("line-reader property %q is not known; ignored", p.key))
			continue
		}
		set(&s.format, p.value)
	}
	if err := s.format.check(); err != nil {
		return nil, fmt.Errorf("--property: %w", err)
	}
	return s, nil
}

// propertyOption turns one producer property into an option; the
// library names the property in its errors.
func propertyOption(key, value string) (kafka.Option, error) {
	opts, err := kafka.OptionsFromMap(map[string]string{key: value})
	if err != nil {
		return nil, err
	}
	return opts[0], nil
}

// splitKV splits "key=value" at the first '='; the value may hold more.
func splitKV(flag, kv string) (property, error) {
	k, v, ok := strings.Cut(kv, "=")
	if !ok || k == "" {
		return property{}, fmt.Errorf("%s %q: want key=value", flag, kv)
	}
	return property{k, v}, nil
}

// normalize spells a property name the way the library compares them,
// so "bootstrap.servers" and "bootstrap_servers" are the same.
func normalize(name string) string {
	return strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(name)))
}
