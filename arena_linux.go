//go:build linux && !race

package kafka

import "syscall"

// adviseHugePages asks for transparent huge pages where the system leaves
// them to madvise: batches are written and read end to end, and with 4 KiB
// pages a buffer_memory's worth of them needs thousands of TLB entries.
// The arena is handed out from its start, so its resident size still
// grows only as batches need it, 2 MiB at a time.
func adviseHugePages(b []byte) { _ = syscall.Madvise(b, syscall.MADV_HUGEPAGE) }
