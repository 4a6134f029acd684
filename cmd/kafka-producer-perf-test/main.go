// Command kafka-producer-perf-test is a Go port of Kafka's
// kafka-producer-perf-test: it sends --num-records records as fast as
// allowed and prints throughput and latency the way the Java tool does, so
// figures from both can be read side by side.
//
//	kafka-producer-perf-test --topic t --num-records 1000000 --record-size 100 \
//	    --throughput -1 --producer-props bootstrap.servers=b:9092 acks=1 linger.ms=5
//
// Without --bootstrap-server and without a bootstrap.servers property it
// starts an in-process kafkatest cluster that discards what it receives,
// so the figures are the producer's own.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kpgo/kafka"
	"github.com/kpgo/kafka/kafkatest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes: 0 success, 1 a run that failed (setup or records), 2 bad
// command line, as Go's flag package uses.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// defaultClientID is the client.id Java's tool sets when none is given.
const defaultClientID = "perf-producer-client"

// defaultTxnDuration is how long a transaction stays open when a
// transactional id is given without --transaction-duration-ms (as in
// Java's tool).
const defaultTxnDuration = 3 * time.Second

// embeddedPartitions is how many partitions the in-process cluster gives
// the topic: enough that the sticky partitioner moves between brokers.
const embeddedPartitions = 12

const usageText = `usage: kafka-producer-perf-test --topic TOPIC --num-records N
       (--record-size BYTES | --payload-file FILE [--payload-delimiter D] | --payload-monotonic)
       [--throughput RECORDS_PER_SEC] [--producer-props K=V ...] [--producer.config FILE]
       [--bootstrap-server HOST:PORT[,...]] [--print-metrics] [--json]

Sends records and reports throughput and latency like Kafka's
kafka-producer-perf-test.

  --topic TOPIC               produce to this topic (required)
  --num-records N             number of records to produce (required, > 0)
  --record-size BYTES         size of each record's value
  --payload-file FILE         UTF-8 file whose pieces (split by the delimiter)
                              are sent as values, picked at random
  --payload-delimiter D       delimiter of --payload-file (default "\n")
  --payload-monotonic         values are the increasing record number
  --throughput N              at most about N records/s; -1 for no limit (default -1)
  --producer-props K=V ...    producer properties, kafka-python or Java names
                              (linger_ms=5 or linger.ms=5); they override --producer.config
  --producer.config FILE      producer properties file (Java .properties format)
  --bootstrap-server LIST     brokers to connect to; overrides bootstrap.servers
  --transactional-id ID       send inside transactions with this transactional.id
  --transaction-duration-ms N commit a transaction every N ms (default 3000
                              when transactional)
  --print-metrics             print the producer's metrics at the end
  --json                      print the summary as one JSON object on stdout
                              (progress lines go to stderr)

With no --bootstrap-server and no bootstrap.servers property, an in-process
cluster (3 brokers, the topic with 12 partitions, records discarded) is
started for the run.
`

// options is the parsed command line.
type options struct {
	topic        string
	numRecords   int64
	recordSize   int
	payloadFile  string
	delimiter    string
	monotonic    bool
	throughput   float64
	props        []string
	configFile   string
	bootstrap    string
	printMetrics bool
	json         bool
	txnID        string
	txnDuration  time.Duration // 0: not given
}

// usageError is a command-line mistake: run prints it with the usage text.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

var errHelp = errors.New("help requested")

// parseArgs reads Java-style flags: "--flag value" or "--flag=value", and
// --producer-props taking every following argument up to the next flag,
// as argparse's nargs='+' does.
func parseArgs(args []string) (*options, error) {
	o := &options{throughput: -1, delimiter: "\n", recordSize: -1}
	seen := map[string]bool{}
	for i := 0; i < len(args); i++ {
		arg := args[i]
		if !strings.HasPrefix(arg, "-") {
			return nil, usagef("unexpected argument %q", arg)
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(arg, "-"), "=")
		// value returns the flag's argument, inline or the next one.
		next := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", usagef("flag --%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		if seen[name] && name != "producer-props" {
			return nil, usagef("flag --%s given twice", name)
		}
		seen[name] = true
		var err error
		var v string
		switch name {
		case "h", "help":
			return nil, errHelp
		case "topic":
			o.topic, err = next()
		case "num-records":
			if v, err = next(); err == nil {
				o.numRecords, err = strconv.ParseInt(v, 10, 64)
				if err != nil || o.numRecords <= 0 {
					err = usagef("--num-records must be a number greater than zero, got %q", v)
				}
			}
		case "record-size":
			if v, err = next(); err == nil {
				o.recordSize, err = strconv.Atoi(v)
				if err != nil || o.recordSize <= 0 {
					err = usagef("--record-size must be a number greater than zero, got %q", v)
				}
			}
		case "payload-file":
			o.payloadFile, err = next()
		case "payload-delimiter":
			if v, err = next(); err == nil {
				// The help text shows the default escaped, and users copy
				// it: take a literal \n as the newline, as Java's tool does.
				if v == `\n` {
					v = "\n"
				}
				if v == "" {
					err = usagef("--payload-delimiter cannot be empty")
				}
				o.delimiter = v
			}
		case "payload-monotonic":
			if hasValue {
				return nil, usagef("flag --%s takes no value", name)
			}
			o.monotonic = true
		case "throughput":
			if v, err = next(); err == nil {
				o.throughput, err = strconv.ParseFloat(v, 64)
				if err != nil || o.throughput == 0 || (o.throughput < 0 && o.throughput != -1) ||
					math.IsNaN(o.throughput) || math.IsInf(o.throughput, 0) {
					err = usagef("--throughput must be a positive number of records/s or -1 for no limit, got %q", v)
				}
			}
		case "producer-props":
			if hasValue {
				o.props = append(o.props, value)
			}
			for i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
				i++
				o.props = append(o.props, args[i])
			}
			if !hasValue && len(o.props) == 0 {
				err = usagef("--producer-props needs at least one K=V")
			}
		case "producer.config":
			o.configFile, err = next()
		case "bootstrap-server":
			o.bootstrap, err = next()
		case "print-metrics", "json":
			if hasValue {
				return nil, usagef("flag --%s takes no value", name)
			}
			if name == "json" {
				o.json = true
			} else {
				o.printMetrics = true
			}
		case "transactional-id":
			o.txnID, err = next()
		case "transaction-duration-ms":
			var v string
			if v, err = next(); err == nil {
				var ms int64
				ms, err = strconv.ParseInt(v, 10, 64)
				if err != nil || ms <= 0 {
					err = usagef("--transaction-duration-ms must be a number of milliseconds > 0, got %q", v)
				}
				o.txnDuration = time.Duration(ms) * time.Millisecond
			}
		case "warmup-records":
			return nil, usagef("--%s is not supported", name)
		default:
			return nil, usagef("unknown flag %q", arg)
		}
		if err != nil {
			return nil, err
		}
	}
	if o.topic == "" {
		return nil, usagef("--topic is required")
	}
	if err := kafka.ValidateTopic(o.topic); err != nil {
		return nil, usagef("--topic: %v", err)
	}
	if o.numRecords == 0 {
		return nil, usagef("--num-records is required")
	}
	n := 0
	for _, set := range []bool{o.recordSize > 0, o.payloadFile != "", o.monotonic} {
		if set {
			n++
		}
	}
	if n != 1 {
		return nil, usagef("give exactly one of --record-size, --payload-file or --payload-monotonic")
	}
	return o, nil
}

// readPropsFile reads a Java .properties file: key=value or key:value
// lines, '#' and '!' comments. Continuation lines and escapes are rare in
// producer configs and are not supported.
func readPropsFile(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	props := map[string]string{}
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i <= 0 {
			return nil, fmt.Errorf("%s:%d: not a key=value line: %q", path, n+1, line)
		}
		props[strings.TrimSpace(line[:i])] = strings.TrimSpace(line[i+1:])
	}
	return props, nil
}

// normalize makes "bootstrap.servers" and "bootstrap_servers" one key, as
// the library's OptionsFromMap does.
func normalize(name string) string {
	return strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(name)))
}

// ignoredProps are Java settings the tool handles itself: values are raw
// bytes, so serializers have nothing to do.
var ignoredProps = map[string]bool{"key_serializer": true, "value_serializer": true}

// buildProps merges the config file and --producer-props (which win), and
// removes what the tool handles itself. It reports whether bootstrap
// servers and a client id were given.
func buildProps(o *options, stderr io.Writer) (props map[string]string, hasBootstrap, hasClientID bool, err error) {
	props = map[string]string{}
	if o.configFile != "" {
		if props, err = readPropsFile(o.configFile); err != nil {
			return nil, false, false, err
		}
	}
	for _, kv := range o.props {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, false, false, usagef("invalid property %q: want KEY=VALUE", kv)
		}
		// A later spelling of the same property replaces an earlier one.
		for old := range props {
			if normalize(old) == normalize(k) {
				delete(props, old)
			}
		}
		props[k] = v
	}
	for k := range props {
		switch n := normalize(k); {
		case ignoredProps[n]:
			fmt.Fprintf(stderr, "ignoring %s: values are sent as raw bytes\n", k)
			delete(props, k)
		case n == "bootstrap_servers" || n == "metadata_broker_list":
			if o.bootstrap != "" {
				delete(props, k) // --bootstrap-server wins.
			} else {
				hasBootstrap = true
			}
		case n == "client_id":
			hasClientID = true
		}
	}
	return props, hasBootstrap || o.bootstrap != "", hasClientID, nil
}

// payloads yields the value of each record. With --record-size it slides
// a window over a buffer of random capital letters, as Java's tool fills
// values with them, without drawing random numbers per record.
type payloads struct {
	size    int
	buf     []byte
	pos     int
	list    [][]byte
	rng     *rand.Rand
	mono    bool
	monoBuf []byte
}

const payloadSlack = 4096

func newPayloads(o *options, info io.Writer) (*payloads, error) {
	p := &payloads{rng: rand.New(rand.NewPCG(0, 0)), mono: o.monotonic}
	switch {
	case o.recordSize > 0:
		p.size = o.recordSize
		p.buf = make([]byte, o.recordSize+payloadSlack)
		for i := range p.buf {
			p.buf[i] = byte('A' + p.rng.IntN(26))
		}
	case o.payloadFile != "":
		abs, _ := filepath.Abs(o.payloadFile)
		fmt.Fprintf(info, "Reading payloads from: %s\n", abs)
		data, err := os.ReadFile(o.payloadFile)
		if err != nil {
			return nil, err
		}
		if len(data) == 0 {
			return nil, fmt.Errorf("payload file %s is empty", o.payloadFile)
		}
		for _, piece := range bytes.Split(data, []byte(o.delimiter)) {
			if len(piece) > 0 {
				p.list = append(p.list, piece)
			}
		}
		if len(p.list) == 0 {
			return nil, fmt.Errorf("payload file %s holds only delimiters", o.payloadFile)
		}
		fmt.Fprintf(info, "Number of messages read: %d\n", len(p.list))
	}
	return p, nil
}

func (p *payloads) next(i int64) []byte {
	switch {
	case p.list != nil:
		return p.list[p.rng.IntN(len(p.list))]
	case p.mono:
		p.monoBuf = strconv.AppendInt(p.monoBuf[:0], i, 10)
		return p.monoBuf
	}
	v := p.buf[p.pos : p.pos+p.size]
	if p.pos++; p.pos > payloadSlack {
		p.pos = 0
	}
	return v
}

// throttler keeps the send rate near a target, as Java's
// ThroughputThrottler: it sleeps off the time the sends are ahead of
// schedule, but only once that reaches a couple of milliseconds, so fast
// targets do not sleep per record.
type throttler struct {
	rate  float64 // records/s; <= 0 means no limit
	start time.Time
	sleep func(time.Duration)
}

const minThrottleSleep = 2 * time.Millisecond

func (t *throttler) wait(ctx context.Context, sent int64) {
	if t.rate <= 0 {
		return
	}
	due := t.start.Add(time.Duration(float64(sent) / t.rate * float64(time.Second)))
	if ahead := time.Until(due); ahead >= minThrottleSleep {
		select {
		case <-time.After(ahead):
		case <-ctx.Done():
		}
	}
}

// stats gathers latencies as Java's tool does: totals and a max over all
// records, a 5 s reporting window, and every sampling-th latency kept for
// the percentiles (at most 500,000 samples).
type stats struct {
	mu       sync.Mutex
	out      io.Writer
	errOut   io.Writer
	start    time.Time
	interval time.Duration

	count, bytes int64
	totalLat     time.Duration
	maxLat       time.Duration
	iteration    int64
	sampling     int64
	samples      []time.Duration

	winStart        time.Time
	winCount        int64
	winBytes        int64
	winTotal, winMx time.Duration

	failed     int64
	firstError error
}

const maxSamples = 500000

func newStats(numRecords int64, out, errOut io.Writer) *stats {
	sampling := numRecords / min(numRecords, maxSamples)
	now := time.Now()
	return &stats{
		out: out, errOut: errOut, start: now, winStart: now, interval: 5 * time.Second,
		sampling: sampling,
		samples:  make([]time.Duration, 0, numRecords/sampling+1),
	}
}

// maxErrorsShown bounds the errors printed; the rest are counted.
const maxErrorsShown = 10

func (s *stats) record(lat time.Duration, n int, now time.Time, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		// Failed records are not counted as sent, as in Java's tool.
		s.failed++
		if s.firstError == nil {
			s.firstError = err
		}
		if s.failed <= maxErrorsShown {
			fmt.Fprintf(s.errOut, "error sending record: %v\n", err)
		}
		return
	}
	s.count++
	s.bytes += int64(n)
	s.totalLat += lat
	s.maxLat = max(s.maxLat, lat)
	s.winCount++
	s.winBytes += int64(n)
	s.winTotal += lat
	s.winMx = max(s.winMx, lat)
	if s.iteration%s.sampling == 0 {
		s.samples = append(s.samples, lat)
	}
	s.iteration++
	if now.Sub(s.winStart) >= s.interval {
		s.printWindow(now)
		s.winStart, s.winCount, s.winBytes, s.winTotal, s.winMx = now, 0, 0, 0, 0
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

const mib = 1024 * 1024

func (s *stats) printWindow(now time.Time) {
	el := now.Sub(s.winStart).Seconds()
	fmt.Fprintf(s.out, "%d records sent, %.1f records/sec (%.2f MB/sec), %.1f ms avg latency, %.1f ms max latency.\n",
		s.winCount, float64(s.winCount)/el, float64(s.winBytes)/el/mib,
		ms(s.winTotal)/float64(s.winCount), ms(s.winMx))
}

// summary is the final result; its JSON form is what --json prints.
type summary struct {
	Records       int64                         `json:"records"`
	Failed        int64                         `json:"failed"`
	Bytes         int64                         `json:"bytes"`
	ElapsedMs     float64                       `json:"elapsed_ms"`
	RecordsPerSec float64                       `json:"records_per_sec"`
	MBPerSec      float64                       `json:"mb_per_sec"`
	AvgLatencyMs  float64                       `json:"avg_latency_ms"`
	MaxLatencyMs  float64                       `json:"max_latency_ms"`
	P50Ms         int64                         `json:"p50_ms"`
	P95Ms         int64                         `json:"p95_ms"`
	P99Ms         int64                         `json:"p99_ms"`
	P999Ms        int64                         `json:"p999_ms"`
	Metrics       map[string]map[string]float64 `json:"metrics,omitempty"`
}

func (s *stats) summary(now time.Time) summary {
	s.mu.Lock()
	defer s.mu.Unlock()
	el := now.Sub(s.start).Seconds()
	sum := summary{
		Records: s.count, Failed: s.failed, Bytes: s.bytes,
		ElapsedMs:     el * 1000,
		RecordsPerSec: float64(s.count) / el,
		MBPerSec:      float64(s.bytes) / el / mib,
		MaxLatencyMs:  ms(s.maxLat),
	}
	if s.count > 0 {
		sum.AvgLatencyMs = ms(s.totalLat) / float64(s.count)
	}
	// Percentiles as Java computes them: the sample at index p*size of
	// the sorted samples, in whole milliseconds.
	slices.Sort(s.samples)
	pct := func(p float64) int64 {
		if len(s.samples) == 0 {
			return 0
		}
		return int64(s.samples[int(p*float64(len(s.samples)))] / time.Millisecond)
	}
	sum.P50Ms, sum.P95Ms, sum.P99Ms, sum.P999Ms = pct(0.5), pct(0.95), pct(0.99), pct(0.999)
	return sum
}

func (sum summary) String() string {
	return fmt.Sprintf("%d records sent, %f records/sec (%.2f MB/sec), %.2f ms avg latency, %.2f ms max latency, %d ms 50th, %d ms 95th, %d ms 99th, %d ms 99.9th.",
		sum.Records, sum.RecordsPerSec, sum.MBPerSec, sum.AvgLatencyMs, sum.MaxLatencyMs,
		sum.P50Ms, sum.P95Ms, sum.P99Ms, sum.P999Ms)
}

// slot carries one in-flight record's send time to its callback. Slots are
// reused through a free list, and each binds its callback once, so the
// steady state allocates nothing per record.
type slot struct {
	start time.Time
	size  int
	pool  *slotPool
	cb    func(kafka.RecordMetadata, error)
}

type slotPool struct {
	mu    sync.Mutex
	free  []*slot
	stats *stats
	// pending counts records whose callback has not run yet: Flush
	// returns once batches are acknowledged, which may be before the
	// last callbacks have run.
	pending sync.WaitGroup
}

func (p *slotPool) get() *slot {
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		s := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return s
	}
	p.mu.Unlock()
	s := &slot{pool: p}
	s.cb = s.done
	return s
}

func (s *slot) done(_ kafka.RecordMetadata, err error) {
	now := time.Now()
	s.pool.stats.record(now.Sub(s.start), s.size, now, err)
	p := s.pool
	p.mu.Lock()
	p.free = append(p.free, s)
	p.mu.Unlock()
	p.pending.Done()
}

func printMetrics(w io.Writer, m map[string]map[string]float64) {
	var names []string
	values := map[string]float64{}
	for group, ms := range m {
		for name, v := range ms {
			full := group + ":" + name
			names = append(names, full)
			values[full] = v
		}
	}
	sort.Strings(names)
	width := len("Metric Name")
	for _, n := range names {
		width = max(width, len(n))
	}
	fmt.Fprintf(w, "\n%-*s   %s\n", width, "Metric Name", "Value")
	for _, n := range names {
		fmt.Fprintf(w, "%-*s : %.3f\n", width, n, values[n])
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	// Like Java's tool, no arguments at all asks for help.
	o, err := parseArgs(args)
	if len(args) == 0 || errors.Is(err, errHelp) {
		fmt.Fprint(stdout, usageText)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "kafka-producer-perf-test: %v\n\n%s", err, usageText)
		return exitUsage
	}
	// With --json stdout carries only the summary.
	info := stdout
	if o.json {
		info = stderr
	}
	props, hasBootstrap, hasClientID, err := buildProps(o, stderr)
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "kafka-producer-perf-test: %v\n\n%s", err, usageText)
			return exitUsage
		}
		fmt.Fprintf(stderr, "kafka-producer-perf-test: %v\n", err)
		return exitFail
	}
	// The id may come under any spelling OptionsFromMap takes; the flag
	// wins over them, as in Java's tool.
	transactional := false
	for k, v := range props {
		if strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToLower(k)) != "transactional_id" {
			continue
		}
		if o.txnID != "" {
			delete(props, k)
		} else if v != "" {
			transactional = true
		}
	}
	if o.txnID != "" {
		props["transactional.id"] = o.txnID
		transactional = true
	}
	if o.txnDuration > 0 && !transactional {
		fmt.Fprintf(stderr, "kafka-producer-perf-test: --transaction-duration-ms needs a transactional id\n\n%s", usageText)
		return exitUsage
	}
	if transactional && o.txnDuration == 0 {
		o.txnDuration = defaultTxnDuration
	}
	opts, err := kafka.OptionsFromMap(props)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-producer-perf-test: %v\n\n%s", err, usageText)
		return exitUsage
	}
	if !hasClientID {
		opts = append([]kafka.Option{kafka.ClientID(defaultClientID)}, opts...)
	}
	if o.bootstrap != "" {
		opts = append(opts, kafka.BootstrapServers(o.bootstrap))
	} else if !hasBootstrap {
		cluster, err := kafkatest.NewCluster(kafkatest.Brokers(3),
			kafkatest.SeedTopic(o.topic, embeddedPartitions), kafkatest.BlackholeProduce())
		if err != nil {
			fmt.Fprintf(stderr, "kafka-producer-perf-test: starting an in-process cluster: %v\n", err)
			return exitFail
		}
		defer cluster.Close()
		fmt.Fprintf(stderr, "No --bootstrap-server or bootstrap.servers given: started an in-process kafkatest cluster "+
			"(3 brokers, topic %q with %d partitions, records discarded) at %s\n",
			o.topic, embeddedPartitions, cluster.BootstrapServers())
		opts = append(opts, kafka.BootstrapServers(cluster.Addrs()...))
	}
	pay, err := newPayloads(o, info)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-producer-perf-test: %v\n", err)
		return exitFail
	}
	p, err := kafka.NewProducer(opts...)
	if err != nil {
		fmt.Fprintf(stderr, "kafka-producer-perf-test: %v\n\n%s", err, usageText)
		return exitUsage
	}
	st := newStats(o.numRecords, info, stderr)
	pool := &slotPool{stats: st}
	thr := &throttler{rate: o.throughput, start: st.start}
	rec := kafka.Record{Topic: o.topic}
	var sendErr error
	// With a transactional id, records go in transactions committed every
	// --transaction-duration-ms, as Java's tool does.
	var txnStart time.Time
	if transactional {
		if err := p.InitTransactions(ctx); err != nil {
			sendErr = err
		} else if err := p.BeginTransaction(); err != nil {
			sendErr = err
		}
		txnStart = time.Now()
	}
	for i := int64(0); i < o.numRecords && ctx.Err() == nil && sendErr == nil; i++ {
		if transactional && time.Since(txnStart) >= o.txnDuration {
			if err := p.CommitTransaction(ctx); err != nil {
				sendErr = err
				break
			}
			if err := p.BeginTransaction(); err != nil {
				sendErr = err
				break
			}
			txnStart = time.Now()
		}
		rec.Value = pay.next(i)
		s := pool.get()
		s.start, s.size = time.Now(), len(rec.Value)
		pool.pending.Add(1)
		if err := p.Produce(ctx, rec, s.cb); err != nil {
			pool.pending.Done()
			sendErr = err
			break
		}
		thr.wait(ctx, i+1)
	}
	code := exitOK
	if sendErr != nil {
		fmt.Fprintf(stderr, "kafka-producer-perf-test: send: %v\n", sendErr)
		code = exitFail
	}
	if transactional && sendErr == nil {
		if err := p.CommitTransaction(ctx); err != nil {
			fmt.Fprintf(stderr, "kafka-producer-perf-test: commit: %v\n", err)
			code = exitFail
		}
	}
	// Flush before the summary so every record's latency is in it; Close
	// afterwards, as Java's tool does when it prints metrics.
	if err := p.Flush(ctx); err != nil {
		fmt.Fprintf(stderr, "kafka-producer-perf-test: flush: %v\n", err)
		code = exitFail
	} else {
		pool.pending.Wait()
	}
	sum := st.summary(time.Now())
	if o.printMetrics {
		sum.Metrics = p.Metrics()
	}
	closeCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Close(closeCtx); err != nil {
		fmt.Fprintf(stderr, "kafka-producer-perf-test: close: %v\n", err)
		code = exitFail
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(sum); err != nil {
			fmt.Fprintf(stderr, "kafka-producer-perf-test: %v\n", err)
			return exitFail
		}
	} else {
		bw := bufio.NewWriter(stdout)
		fmt.Fprintln(bw, sum.String())
		if o.printMetrics {
			printMetrics(bw, sum.Metrics)
		}
		bw.Flush()
	}
	if sum.Failed > 0 {
		fmt.Fprintf(stderr, "kafka-producer-perf-test: %d records failed; first error: %v\n", sum.Failed, st.firstError)
		code = exitFail
	}
	return code
}
