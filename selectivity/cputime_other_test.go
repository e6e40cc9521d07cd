//go:build !unix

package selectivity

import "time"

// cpuTime is not measured here; BenchmarkRecord then reports wall time
// only.
func cpuTime() time.Duration { return 0 }
