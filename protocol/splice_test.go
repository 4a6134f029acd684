package protocol

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// joinSplices puts the left-out bytes back where the splices say.
func joinSplices(b []byte, splices []Splice) []byte {
	var out []byte
	at := 0
	for _, s := range splices {
		out = append(out, b[at:s.At]...)
		out = append(out, s.Bytes...)
		at = s.At
	}
	return append(out, b[at:]...)
}

// AppendToVec is generated beside AppendTo from the same schema: with the
// records spliced back it must match AppendTo, for every version and every
// shape of request.
func TestProduceRequestAppendToVecMatchesAppendTo(t *testing.T) {
	txn := "txn"
	reqs := []ProduceRequest{
		{Acks: -1, TimeoutMs: 30000},
		{Acks: 1, TimeoutMs: 5, TopicData: []TopicProduceData{{Name: "a", PartitionData: []PartitionProduceData{{Index: 0, Records: []byte("batch-a0")}}}}},
		{TransactionalId: &txn, Acks: -1, TimeoutMs: 1000, TopicData: []TopicProduceData{
			{Name: "t1", TopicId: UUID{1, 2, 3}, PartitionData: []PartitionProduceData{
				{Index: 3, Records: bytes.Repeat([]byte{7}, 300)}, // a two-byte varint length
				{Index: 4, Records: nil},
				{Index: 5, Records: []byte{}},
			}},
			{Name: "t2", TopicId: UUID{9}, PartitionData: []PartitionProduceData{{Index: 0, Records: bytes.Repeat([]byte{1}, 70000)}}},
		}},
	}
	for v := int16(3); v <= 13; v++ {
		for i, m := range reqs {
			t.Run(fmt.Sprintf("v%d/%d", v, i), func(t *testing.T) {
				want := m.AppendTo([]byte("prefix"), v)
				b, splices := m.AppendToVec([]byte("prefix"), v, nil)
				require.Equal(t, want, joinSplices(b, splices))
				for _, s := range splices {
					require.NotEmpty(t, s.Bytes)
				}
			})
		}
	}
}
