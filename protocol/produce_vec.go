package protocol

// Splice marks bytes an encoding left out: Bytes belong at offset At of
// the encoded buffer, before the byte there.
type Splice struct {
	At    int
	Bytes []byte
}

// AppendToVec encodes m like AppendTo, except that each partition's
// Records are left out and marked by a Splice: the producer writes its
// batches from where they are (a vectored write) instead of copying them
// into the request, so a record is copied once on its way to the socket.
// The encoding with the splices in place is byte for byte AppendTo's.
func (m *ProduceRequest) AppendToVec(b []byte, version int16, splices []Splice) ([]byte, []Splice) {
	flexible := version >= 9
	if flexible {
		b = AppendCompactNullableString(b, m.TransactionalId)
	} else {
		b = AppendNullableString(b, m.TransactionalId)
	}
	b = AppendInt16(b, m.Acks)
	b = AppendInt32(b, m.TimeoutMs)
	if flexible {
		b = AppendCompactArrayLen(b, len(m.TopicData))
	} else {
		b = AppendArrayLen(b, len(m.TopicData))
	}
	for i := range m.TopicData {
		t := &m.TopicData[i]
		if version <= 12 {
			if flexible {
				b = AppendCompactString(b, t.Name)
			} else {
				b = AppendString(b, t.Name)
			}
		}
		if version >= 13 {
			b = AppendUUID(b, t.TopicId)
		}
		if flexible {
			b = AppendCompactArrayLen(b, len(t.PartitionData))
		} else {
			b = AppendArrayLen(b, len(t.PartitionData))
		}
		for j := range t.PartitionData {
			p := &t.PartitionData[j]
			b = AppendInt32(b, p.Index)
			// The length of the nullable bytes, then their place.
			switch {
			case p.Records == nil && flexible:
				b = append(b, 0)
			case p.Records == nil:
				b = AppendInt32(b, -1)
			case flexible:
				b = AppendUvarint(b, uint32(len(p.Records))+1)
			default:
				b = AppendInt32(b, int32(len(p.Records)))
			}
			if len(p.Records) > 0 {
				splices = append(splices, Splice{At: len(b), Bytes: p.Records})
			}
			if flexible {
				b = AppendEmptyTaggedFields(b)
			}
		}
		if flexible {
			b = AppendEmptyTaggedFields(b)
		}
	}
	if flexible {
		b = AppendEmptyTaggedFields(b)
	}
	return b, splices
}
