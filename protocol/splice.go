package protocol

// Splice marks bytes an AppendToVec encoding left out: Bytes belong at
// offset At of the encoded buffer, before the byte there.
type Splice struct {
	At    int
	Bytes []byte
}
