package kafka

import (
	"encoding/binary"
	"sync/atomic"
)

// AnyPartition is what a Partitioner returns to let the producer choose
// the partition with the uniform sticky rule (KIP-794): keep filling one
// partition's batch, then move to a partition with less queued. The
// default partitioner returns it for records without a key.
const AnyPartition int32 = -1

// Partitioner chooses the partition of a record that does not name one,
// like kafka-python's partitioner(key, all_partitions, available).
//
// Partition is called on the goroutine that calls Send, from many at once,
// so it must be safe for concurrent use. numPartitions is the topic's
// partition count; available lists the partitions that have a leader now
// (it may be empty while leaders move) and must not be kept or changed.
// The result must be in [0, numPartitions) or AnyPartition.
type Partitioner interface {
	Partition(topic string, key []byte, numPartitions int, available []int32) int32
}

// PartitionerFunc adapts a function to a Partitioner.
type PartitionerFunc func(topic string, key []byte, numPartitions int, available []int32) int32

// Partition calls f.
func (f PartitionerFunc) Partition(topic string, key []byte, numPartitions int, available []int32) int32 {
	return f(topic, key, numPartitions, available)
}

// DefaultPartitioner places keyed records as the Java client and
// kafka-python do, murmur2(key) & 0x7fffffff modulo the partition count over
// all partitions (so a key keeps its partition while leaders move), and
// leaves records without a key to the uniform sticky rule.
type DefaultPartitioner struct{}

// NewDefaultPartitioner returns the default partitioner.
func NewDefaultPartitioner() DefaultPartitioner { return DefaultPartitioner{} }

// Partition implements Partitioner.
func (DefaultPartitioner) Partition(_ string, key []byte, numPartitions int, _ []int32) int32 {
	if key == nil || numPartitions <= 0 {
		return AnyPartition
	}
	return int32((Murmur2(key) & 0x7fffffff) % uint32(numPartitions))
}

// stickyPartitioner leaves every record, keyed or not, to the uniform
// sticky rule: the default partitioner under partitioner_ignore_keys.
type stickyPartitioner struct{}

func (stickyPartitioner) Partition(string, []byte, int, []int32) int32 { return AnyPartition }

// RoundRobinPartitioner spreads records over the available partitions in
// turn, keyed or not (Java's RoundRobinPartitioner).
type RoundRobinPartitioner struct {
	next atomic.Uint32
}

// Partition implements Partitioner.
func (p *RoundRobinPartitioner) Partition(_ string, _ []byte, numPartitions int, available []int32) int32 {
	n := p.next.Add(1) - 1
	if len(available) > 0 {
		return available[n%uint32(len(available))]
	}
	if numPartitions <= 0 {
		return AnyPartition
	}
	return int32(n % uint32(numPartitions))
}

// Murmur2 is the 32-bit murmur2 hash the Java client uses to place keys,
// seed 0x9747b28c, reading 4-byte chunks little-endian. It is exported so
// other code can place keys the same way.
func Murmur2(data []byte) uint32 {
	const (
		seed = 0x9747b28c
		m    = 0x5bd1e995
		r    = 24
	)
	length := len(data)
	h := uint32(seed) ^ uint32(length)
	i := 0
	for ; i+4 <= length; i += 4 {
		k := binary.LittleEndian.Uint32(data[i:])
		k *= m
		k ^= k >> r
		k *= m
		h *= m
		h ^= k
	}
	switch length - i {
	case 3:
		h ^= uint32(data[i+2]) << 16
		fallthrough
	case 2:
		h ^= uint32(data[i+1]) << 8
		fallthrough
	case 1:
		h ^= uint32(data[i])
		h *= m
	}
	h ^= h >> 13
	h *= m
	h ^= h >> 15
	return h
}
