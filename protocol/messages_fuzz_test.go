package protocol

import (
	"reflect"
	"runtime"
	"testing"
)

// One fuzz target per response decoder. Each is seeded with the bodies
// kmsg builds for every version (messages_test.go), so that the seeds run
// as ordinary tests, and checks for any input that:
//   - decoding does not panic and allocates at most a small multiple of
//     the input's size, whatever lengths the input claims;
//   - what decodes re-encodes to a message that decodes to the same value;
//   - what decodes is read by kmsg too, with the same fields.
//
// Run one for longer with, for example:
//
//	go test -run XXX -fuzz FuzzProduceResponse -fuzztime 20s ./protocol

func FuzzApiVersionsResponse(f *testing.F)        { mtFuzz(f, "ApiVersions") }
func FuzzMetadataResponse(f *testing.F)           { mtFuzz(f, "Metadata") }
func FuzzProduceResponse(f *testing.F)            { mtFuzz(f, "Produce") }
func FuzzInitProducerIdResponse(f *testing.F)     { mtFuzz(f, "InitProducerId") }
func FuzzSaslHandshakeResponse(f *testing.F)      { mtFuzz(f, "SaslHandshake") }
func FuzzSaslAuthenticateResponse(f *testing.F)   { mtFuzz(f, "SaslAuthenticate") }
func FuzzFindCoordinatorResponse(f *testing.F)    { mtFuzz(f, "FindCoordinator") }
func FuzzAddPartitionsToTxnResponse(f *testing.F) { mtFuzz(f, "AddPartitionsToTxn") }
func FuzzAddOffsetsToTxnResponse(f *testing.F)    { mtFuzz(f, "AddOffsetsToTxn") }
func FuzzEndTxnResponse(f *testing.F)             { mtFuzz(f, "EndTxn") }
func FuzzTxnOffsetCommitResponse(f *testing.F)    { mtFuzz(f, "TxnOffsetCommit") }

// mtFuzzAllocSlack covers the fixed cost of a decode: the message struct
// and an error value. Everything else must scale with the input.
const mtFuzzAllocSlack = 8 << 10

// mtFuzzAllocFactor bounds the bytes allocated per input byte. A Go
// struct is several times larger than its smallest encoding (an empty
// flexible AddPartitionsToTxn result is 3 bytes on the wire and 40 in
// memory), so a well-formed message already costs up to about 20 times
// its size.
const mtFuzzAllocFactor = 32

func mtFuzz(f *testing.F, name string) {
	api := mtAPIByName(name)
	for v := api.lo; v <= api.hi; v++ {
		for _, fr := range api.frames(v) {
			f.Add(v, fr.b)
		}
	}
	f.Add(api.max, []byte{})
	f.Add(api.min, []byte{0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff})
	f.Add(api.max, []byte{0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, v int16, b []byte) {
		// Fold any version into the decodable range, so the fuzzer does
		// not spend its time on versions that are refused at once.
		if v < api.min || v > api.max {
			v = api.min + int16(uint16(v)%uint16(api.max-api.min+1))
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		got, err := api.decode(b, v)
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > uint64(mtFuzzAllocFactor*len(b)+mtFuzzAllocSlack) {
			// TotalAlloc also counts what the runtime allocated
			// meanwhile: only a decode over the bound every time fails.
			if n = min(n, mtAllocBytes(1, func() { _, _ = api.decode(b, v) })); n > uint64(mtFuzzAllocFactor*len(b)+mtFuzzAllocSlack) {
				t.Fatalf("v%d: decoding %d bytes allocated %d bytes", v, len(b), n)
			}
		}
		if api.key == APIKeyApiVersions {
			_, _ = DecodeApiVersionsResponse(b, v)
		}
		if err != nil {
			return
		}

		again, err := api.decode(api.encode(got, v), v)
		if err != nil {
			t.Fatalf("v%d: our encoding of a decoded message does not decode: %v", v, err)
		}
		mtFuzzEqual(t, "re-encoded", v, got, again)

		if v < api.lo || v > api.hi {
			return // kmsg does not know this version
		}
		want, err := api.kmsg(b, v)
		if err != nil {
			t.Fatalf("v%d: we decode what kmsg refuses: %v", v, err)
		}
		mtFuzzEqual(t, "kmsg", v, want, got)
	})
}

func mtFuzzEqual(t *testing.T, what string, v int16, want, got any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("v%d: %s differs:\nwant %#v\ngot  %#v", v, what, want, got)
	}
}
