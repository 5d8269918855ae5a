package config

import "testing"

// BenchmarkRedactMiss is the hot path: every argument of every exec goes
// through Redact, and almost none holds a secret.
func BenchmarkRedactMiss(b *testing.B) {
	c := Default()
	for i := 0; i < b.N; i++ {
		c.Redact("lgbench1795758121a-2451-1795758126285043393")
		c.Redact("/usr/bin/python3")
	}
}

func BenchmarkRedactHit(b *testing.B) {
	c := Default()
	for i := 0; i < b.N; i++ {
		c.Redact("--password=hunter2")
	}
}
