package kafka

import (
	"net"
	"sort"
	"strconv"
	"time"

	"github.com/kpgo/kafka/protocol"
)

// topicMeta is an immutable snapshot of one topic's metadata.
type topicMeta struct {
	id         protocol.UUID
	partitions []partitionMeta // index = partition id
	// available lists partitions with a leader, for the partitioner.
	available []int32
}

type partitionMeta struct {
	leader int32
	epoch  int32
}

// metadataResult is a decoded Metadata response, handed to the sender.
type metadataResult struct {
	brokers map[int32]string // node id -> host:port
	topics  map[string]topicUpdate
	err     error
	at      time.Time
}

type topicUpdate struct {
	err  error // a topic-level error; meta is nil then
	meta *topicMeta
}

// decodeMetadata turns a Metadata response into what the producer uses.
func decodeMetadata(resp *protocol.MetadataResponse) metadataResult {
	out := metadataResult{
		brokers: make(map[int32]string, len(resp.Brokers)),
		topics:  make(map[string]topicUpdate, len(resp.Topics)),
		at:      time.Now(),
	}
	for _, b := range resp.Brokers {
		out.brokers[b.NodeId] = net.JoinHostPort(b.Host, strconv.Itoa(int(b.Port)))
	}
	for _, t := range resp.Topics {
		name := ""
		if t.Name != nil {
			name = *t.Name
		}
		if err := protocol.ErrorForCode(t.ErrorCode); err != nil {
			out.topics[name] = topicUpdate{err: err}
			continue
		}
		n := 0
		for _, p := range t.Partitions {
			n = max(n, int(p.PartitionIndex)+1)
		}
		m := &topicMeta{id: t.TopicId, partitions: make([]partitionMeta, n)}
		for i := range m.partitions {
			m.partitions[i] = partitionMeta{leader: -1, epoch: -1}
		}
		for _, p := range t.Partitions {
			if p.PartitionIndex < 0 {
				continue
			}
			pm := partitionMeta{leader: p.LeaderId, epoch: p.LeaderEpoch}
			// A partition whose leader is not available has no leader to
			// send to, though the broker may still name the last one.
			if p.ErrorCode == protocol.LeaderNotAvailable.Code {
				pm.leader = -1
			}
			m.partitions[p.PartitionIndex] = pm
		}
		for i, p := range m.partitions {
			if p.leader >= 0 {
				m.available = append(m.available, int32(i))
			}
		}
		sort.Slice(m.available, func(i, j int) bool { return m.available[i] < m.available[j] })
		out.topics[name] = topicUpdate{meta: m}
	}
	return out
}
