//go:build (darwin || freebsd || netbsd || openbsd || dragonfly) && !race

package kafka

func adviseHugePages([]byte) {}
