package kafka

import (
	"fmt"
	"runtime"
)

// goid returns the calling goroutine's id, read from its stack header
// ("goroutine 18 [running]:"). Go has no cheaper way to tell; only calls
// that would wait for the goroutine running them use it, to fail at once
// instead of never returning.
func goid() uint64 {
	var buf [32]byte
	n := runtime.Stack(buf[:], false)
	const prefix = "goroutine "
	var id uint64
	for _, c := range buf[min(len(prefix), n):n] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uint64(c-'0')
	}
	return id
}

// inCallback reports whether the caller runs on a goroutine that
// completes records: the sender's, which runs delivery callbacks, or that
// of a Close failing the records left. A call that waits for records to
// complete would wait for itself there.
func (p *Producer) inCallback() bool {
	g := goid()
	return g == p.sender.gid.Load() || g == p.closingG.Load()
}

// callbackErr is the error of a call made where inCallback holds.
func callbackErr(call string) error {
	return fmt.Errorf("%w: %s would wait for this goroutine, which completes records only once the callback returns", ErrCalledFromCallback, call)
}
