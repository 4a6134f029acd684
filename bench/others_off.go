//go:build !others

package bench

// othersBuilt says that sarama and kafka-go are in this binary; see
// others.go.
const othersBuilt = false

func newSarama(Workload, []string) (Client, error)  { return nil, errNoOthers }
func newKafkaGo(Workload, []string) (Client, error) { return nil, errNoOthers }
