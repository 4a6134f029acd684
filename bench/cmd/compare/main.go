// Command compare runs the bench workloads through our producer and through
// franz-go's kgo, side by side, and prints a table of medians.
//
//	go run ./cmd/compare --records 2000000 --runs 5 --workloads W1,W2,W3,W4
//	go run -tags others ./cmd/compare --clients ours,franz,sarama,kafka-go
//
// It starts one kfake cluster (3 brokers, a 12-partition topic, produced
// records discarded) in a child process, then runs each measurement in a
// child process of its own, alternating clients (ours, franz, ours, ...),
// so CPU time and peak RSS from rusage belong to one client alone. Each
// table ends with our figures over each other client's.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/kpgo/kafka/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Roles of the process: the coordinator (default) re-executes this binary
// as the broker and as each measured client.
const (
	roleBroker = "broker"
	roleClient = "client"
)

// childEnv is set in every child's environment. A test binary's TestMain
// looks for it to act as this program instead of running tests.
const childEnv = "KPGO_BENCH_COMPARE_CHILD"

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	records := fs.Int64("records", 1_000_000, "records per run (W3 runs a quarter as many: its values are 10x larger)")
	runs := fs.Int("runs", 5, "measured runs per client and workload")
	workloads := fs.String("workloads", "W1,W2,W3,W4", "comma-separated workloads to run")
	clientList := fs.String("clients", strings.Join(bench.Clients, ","), "comma-separated clients to compare, ours first (have "+strings.Join(bench.AllClients, ", ")+")")
	verbose := fs.Bool("v", false, "print every run's figures to stderr")
	role := fs.String("role", "", "internal: broker or client")
	client := fs.String("client", "", "internal: the client to run")
	bootstrap := fs.String("bootstrap", "", "internal: the broker addresses")
	workload := fs.String("workload", "", "internal: the workload a client runs")
	cpuProfile := fs.String("cpuprofile", "", "with -role client: write the client's CPU profile of the measured run here")
	memProfile := fs.String("memprofile", "", "with -role client: write the client's allocation profile here")
	traceFile := fs.String("trace", "", "with -role client: write an execution trace of the measured run here")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "compare: unexpected arguments %q\n", fs.Args())
		return 2
	}
	switch *role {
	case roleBroker:
		return runBroker(stdin, stdout, stderr)
	case roleClient:
		w, ok := bench.Lookup(*workload)
		if !ok {
			fmt.Fprintf(stderr, "compare: unknown workload %q\n", *workload)
			return 2
		}
		return runClient(ctx, *client, w, strings.Split(*bootstrap, ","), *records, *cpuProfile, *memProfile, *traceFile, stdout, stderr)
	case "":
	default:
		fmt.Fprintf(stderr, "compare: unknown role %q\n", *role)
		return 2
	}
	var ws []bench.Workload
	for _, name := range strings.Split(*workloads, ",") {
		w, ok := bench.Lookup(strings.TrimSpace(name))
		if !ok {
			fmt.Fprintf(stderr, "compare: unknown workload %q (have W1, W2, W3, W4)\n", name)
			return 2
		}
		ws = append(ws, w)
	}
	clients := strings.Split(*clientList, ",")
	for i, c := range clients {
		clients[i] = strings.TrimSpace(c)
		if !slices.Contains(bench.AllClients, clients[i]) || slices.Index(clients, clients[i]) < i {
			fmt.Fprintf(stderr, "compare: unknown or repeated client %q (have %s)\n", c, strings.Join(bench.AllClients, ", "))
			return 2
		}
		if err := bench.Built(clients[i]); err != nil {
			fmt.Fprintf(stderr, "compare: %v: go run -tags others ./cmd/compare --clients %s\n", err, *clientList)
			return 2
		}
	}
	if len(clients) < 2 || clients[0] != bench.Ours {
		fmt.Fprintf(stderr, "compare: --clients must list %s first and at least one other\n", bench.Ours)
		return 2
	}
	if *records <= 0 || *runs <= 0 {
		fmt.Fprintln(stderr, "compare: --records and --runs must be positive")
		return 2
	}
	if err := coordinate(ctx, ws, clients, *records, *runs, *verbose, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return 1
	}
	return 0
}

// runBroker starts the cluster, prints its addresses on one line and runs
// until stdin closes, which happens when the coordinator exits for any
// reason.
func runBroker(stdin io.Reader, stdout, stderr io.Writer) int {
	c, err := kfake.NewCluster(kfake.NumBrokers(bench.Brokers),
		kfake.SeedTopics(bench.Partitions, bench.Topic), kfake.BlackholeProduce())
	if err != nil {
		fmt.Fprintf(stderr, "compare broker: %v\n", err)
		return 1
	}
	defer c.Close()
	fmt.Fprintln(stdout, strings.Join(c.ListenAddrs(), ","))
	_, _ = io.Copy(io.Discard, stdin)
	return 0
}

// runClient measures one run and prints its Result as JSON. Profiles,
// when asked for, cover the measured records only: to profile one client
// alone, start "-role broker" by hand and run "-role client" against it.
func runClient(ctx context.Context, kind string, w bench.Workload, bootstrap []string, n int64, cpuProfile, memProfile, traceFile string, stdout, stderr io.Writer) int {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	c, err := bench.NewClient(ctx, kind, w, bootstrap)
	if err != nil {
		fmt.Fprintf(stderr, "compare client: %v\n", err)
		return 1
	}
	if memProfile != "" {
		runtime.MemProfileRate = 4096
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "compare client: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "compare client: %v\n", err)
			return 1
		}
	}
	if traceFile != "" {
		f, err := os.Create(traceFile)
		if err != nil {
			fmt.Fprintf(stderr, "compare client: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := trace.Start(f); err != nil {
			fmt.Fprintf(stderr, "compare client: %v\n", err)
			return 1
		}
	}
	res, err := bench.Measure(ctx, c, kind, w, n)
	if cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if traceFile != "" {
		trace.Stop()
	}
	if memProfile != "" {
		if f, err := os.Create(memProfile); err == nil {
			_ = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	c.Close()
	if err != nil {
		fmt.Fprintf(stderr, "compare client %s %s: %v\n", kind, w.Name, err)
		return 1
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		return 1
	}
	return 0
}

// child returns a command running this binary in another role.
func child(ctx context.Context, args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	return cmd, nil
}

// syncWriter serialises writes: the broker child's stderr is copied into
// the same writer the coordinator reports on.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func coordinate(ctx context.Context, ws []bench.Workload, clients []string, records int64, runs int, verbose bool, stdout, stderr io.Writer) error {
	stderr = &syncWriter{w: stderr}
	broker, err := child(ctx, "-role", roleBroker)
	if err != nil {
		return err
	}
	brokerIn, err := broker.StdinPipe()
	if err != nil {
		return err
	}
	brokerOut, err := broker.StdoutPipe()
	if err != nil {
		return err
	}
	broker.Stderr = stderr
	if err := broker.Start(); err != nil {
		return fmt.Errorf("starting the broker: %w", err)
	}
	defer func() {
		brokerIn.Close()
		_ = broker.Wait()
	}()
	line, err := bufio.NewReader(brokerOut).ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading the broker's addresses: %w", err)
	}
	addrs := strings.TrimSpace(line)
	fmt.Fprintf(stderr, "broker: kfake, %d brokers at %s, topic %q with %d partitions, produce blackholed\n",
		bench.Brokers, addrs, bench.Topic, bench.Partitions)

	for _, w := range ws {
		n := max(int64(float64(records)*w.RecordScale), 1)
		results := map[string][]bench.Result{}
		for r := 0; r < runs; r++ {
			for _, kind := range clients {
				res, err := measure(ctx, kind, w, addrs, n)
				if err != nil {
					return err
				}
				if verbose {
					fmt.Fprintf(stderr, "%s %-8s run %d: %.0f records/s, %.0f CPU ns/record, %.2f allocs/record, %d KiB peak RSS\n",
						w.Name, kind, r+1, res.RecordsPerSec(), res.CPUPerRecord(), res.AllocsPerRecord(), res.MaxRSSKB)
				}
				results[kind] = append(results[kind], res)
			}
		}
		printTable(stdout, w, n, runs, clients, results)
	}
	return nil
}

// measure runs one client in a child process. Peak RSS comes from the
// child's rusage as the kernel reports it at exit.
func measure(ctx context.Context, kind string, w bench.Workload, addrs string, n int64) (bench.Result, error) {
	cmd, err := child(ctx, "-role", roleClient, "-client", kind, "-workload", w.Name,
		"-bootstrap", addrs, "-records", fmt.Sprint(n))
	if err != nil {
		return bench.Result{}, err
	}
	var errBuf strings.Builder
	cmd.Stderr = &errBuf
	out, err := cmd.Output()
	if err != nil {
		return bench.Result{}, fmt.Errorf("%s %s: %w: %s", w.Name, kind, err, errBuf.String())
	}
	var res bench.Result
	if err := json.Unmarshal(out, &res); err != nil {
		return bench.Result{}, fmt.Errorf("%s %s: bad result %q: %w", w.Name, kind, out, err)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		res.MaxRSSKB = int64(ru.Maxrss)
	}
	return res, nil
}

// row holds one client's medians.
type row struct {
	rps, mbps, cpu, allocs, allocB, rssMiB float64
}

func medians(rs []bench.Result) row {
	var rps, mbps, cpu, allocs, allocB, rss []float64
	for _, r := range rs {
		rps = append(rps, r.RecordsPerSec())
		mbps = append(mbps, r.MBPerSec())
		cpu = append(cpu, r.CPUPerRecord())
		allocs = append(allocs, r.AllocsPerRecord())
		allocB = append(allocB, r.BytesPerRecord())
		rss = append(rss, float64(r.MaxRSSKB)/1024)
	}
	return row{bench.Median(rps), bench.Median(mbps), bench.Median(cpu), bench.Median(allocs), bench.Median(allocB), bench.Median(rss)}
}

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func printTable(w io.Writer, wl bench.Workload, n int64, runs int, clients []string, results map[string][]bench.Result) {
	fmt.Fprintf(w, "\n%s: %s\n%d records per run, medians of %d alternating runs per client\n\n", wl.Name, wl.Desc, n, runs)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "client\trecords/s\tMB/s\tCPU ns/record\tallocs/record\tB/record\tpeak RSS MiB\t")
	rows := map[string]row{}
	for _, kind := range clients {
		r := medians(results[kind])
		rows[kind] = r
		fmt.Fprintf(tw, "%s\t%.0f\t%.2f\t%.0f\t%.3f\t%.1f\t%.1f\t\n", kind, r.rps, r.mbps, r.cpu, r.allocs, r.allocB, r.rssMiB)
	}
	o := rows[bench.Ours]
	for _, kind := range clients[1:] {
		f := rows[kind]
		fmt.Fprintf(tw, "ours/%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", kind,
			ratio(o.rps, f.rps), ratio(o.mbps, f.mbps), ratio(o.cpu, f.cpu), ratio(o.allocs, f.allocs), ratio(o.allocB, f.allocB), ratio(o.rssMiB, f.rssMiB))
	}
	tw.Flush()
	if wl.Idempotent && slices.Contains(clients, bench.KafkaGo) {
		fmt.Fprintf(w, "kafka-go has no idempotent producer: it ran %s without idempotence.\n", wl.Name)
	}
}
