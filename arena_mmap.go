//go:build (linux || darwin || freebsd || netbsd || openbsd || dragonfly) && !race

package kafka

import "syscall"

// mapArena maps size bytes of anonymous memory outside the Go heap, or
// returns nil if it cannot. Pages cost nothing until first written.
func mapArena(size int) []byte {
	if size <= 0 {
		return nil
	}
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil
	}
	adviseHugePages(b)
	return b
}

// unmapArena returns an arena from mapArena to the system.
func unmapArena(b []byte) { _ = syscall.Munmap(b) }
