package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kpgo/kafka/bench"
)

// TestMain lets the test binary stand in for the compare binary: the
// coordinator re-executes os.Executable() as broker and clients, and those
// children carry childEnv.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func TestCompareTiny(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"--records", "2000", "--runs", "1", "--workloads", "W1,W4", "-v"}, strings.NewReader(""), &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	for _, w := range []string{"W1", "W4"} {
		if !strings.Contains(out.String(), w+": ") {
			t.Errorf("no table for %s in:\n%s", w, out.String())
		}
	}
	for _, re := range []string{
		`(?m)^\s*client\s+records/s\s+MB/s\s+CPU ns/record\s+allocs/record\s+B/record\s+peak RSS MiB$`,
		`(?m)^\s*ours\s+\d+\s+\d+\.\d\d\s+\d+\s+\d+\.\d{3}\s+\d+\.\d\s+\d+\.\d$`,
		`(?m)^\s*franz\s+\d+\s+\d+\.\d\d\s+\d+\s+\d+\.\d{3}\s+\d+\.\d\s+\d+\.\d$`,
		`(?m)^\s*ours/franz(\s+\d+\.\d\dx){6}$`,
	} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("output does not match %s:\n%s", re, out.String())
		}
	}
	if n := strings.Count(errOut.String(), " run 1: "); n != 4 {
		t.Errorf("want 4 measured runs (2 workloads x 2 clients), stderr has %d:\n%s", n, errOut.String())
	}
}

// With --clients, every client listed runs and gets a ratio row.
func TestCompareAllClients(t *testing.T) {
	if err := bench.Built(bench.Sarama); err != nil {
		t.Skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"--records", "2000", "--runs", "1", "--workloads", "W4", "--clients", "ours,franz,sarama,kafka-go"},
		strings.NewReader(""), &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	for _, c := range []string{"franz", "sarama", "kafka-go"} {
		for _, re := range []string{
			`(?m)^\s*` + c + `\s+\d+\s+\d+\.\d\d\s+\d+\s+\d+\.\d{3}\s+\d+\.\d\s+\d+\.\d$`,
			`(?m)^\s*ours/` + c + `(\s+\d+\.\d\dx){6}$`,
		} {
			if !regexp.MustCompile(re).MatchString(out.String()) {
				t.Errorf("output does not match %s:\n%s", re, out.String())
			}
		}
	}
	if !strings.Contains(out.String(), "kafka-go has no idempotent producer") {
		t.Errorf("no note that kafka-go ran W4 without idempotence:\n%s", out.String())
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--workloads", "W9"},
		{"--records", "0"},
		{"--runs", "-1"},
		{"--nope"},
		{"extra"},
		{"-role", "client", "-workload", "W7"},
		{"-role", "dancer"},
		{"--clients", "franz,ours"},
		{"--clients", "ours"},
		{"--clients", "ours,ours"},
		{"--clients", "ours,confluent"},
	} {
		var out, errOut bytes.Buffer
		if code := run(context.Background(), args, strings.NewReader(""), &out, &errOut); code != 2 {
			t.Errorf("args %q: exit %d, want 2 (stderr %q)", args, code, errOut.String())
		}
	}
}
