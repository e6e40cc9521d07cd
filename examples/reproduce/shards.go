package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/emosel/emosel/internal/cli"
	manstudy "github.com/emosel/emosel/manipulate/study"
)

// shardName matches a shard directory, OUT/shards/shard-i-of-n.
var shardName = regexp.MustCompile(`^shard-([0-9]+)-of-([0-9]+)$`)

// shardState is what one shard of a sharded run has finished.
type shardState struct {
	i, n             int
	dir              string
	missing, results int    // (stage, unit) results not finished, and assigned
	why              string // "not started", "other settings", or ""
}

// checkShards is -merge's check that every shard of the run is finished:
// the shard count is read from the directory names (one count only), and
// each shard i of n, present or not, must have every unit it is assigned
// finished with cfg's settings. Otherwise nothing is merged: it prints
// each unfinished shard and the command that reruns it, and fails. It
// returns the shard directories.
func (r *runner) checkShards(cfg manstudy.Config) ([]string, error) {
	entries, err := os.ReadDir(r.path(shardsDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("-merge: %w", err)
	}
	var counts []int
	for _, e := range entries {
		m := shardName.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		n, _ := strconv.Atoi(m[2])
		if !slices.Contains(counts, n) {
			counts = append(counts, n)
		}
	}
	slices.Sort(counts)
	switch {
	case len(counts) == 0:
		return nil, cli.Usagef("-merge: no shard directories in %s: run the shards first (-shard i/n after -until selectivity)", r.path(shardsDir))
	case len(counts) > 1:
		var names []string
		for _, n := range counts {
			names = append(names, fmt.Sprintf("shard-*-of-%d", n))
		}
		return nil, fmt.Errorf("-merge: %s holds shards of %d different runs (%s): remove the directories of the runs you do not want merged",
			r.path(shardsDir), len(counts), strings.Join(names, ", "))
	}
	n := counts[0]
	var dirs []string
	var bad []shardState
	for i := range n {
		st, err := r.shardState(cfg, i, n)
		if err != nil {
			return nil, err
		}
		dirs = append(dirs, st.dir)
		if st.missing > 0 || st.why != "" {
			bad = append(bad, st)
		}
	}
	if len(bad) == 0 {
		return dirs, nil
	}
	fmt.Fprintf(r.stderr, "-merge: %d of %d shards are not finished; nothing was merged and no report was written:\n", len(bad), n)
	var idx []string
	for _, st := range bad {
		idx = append(idx, strconv.Itoa(st.i))
		switch st.why {
		case "":
			fmt.Fprintf(r.stderr, "  shard %d/%d: %d of its %d results unfinished (%s)\n", st.i, n, st.missing, st.results, st.dir)
		default:
			fmt.Fprintf(r.stderr, "  shard %d/%d: %s (%s)\n", st.i, n, st.why, st.dir)
		}
	}
	list := strings.Join(idx, ",")
	flags := shellJoin(withoutMerge(r.p.o.args))
	if submit := os.Getenv("EMOSEL_SUBMIT"); submit != "" {
		// submit.sh's own command line, quoted, with its sbatch options.
		fmt.Fprintf(r.stderr, "Rerun %s and then the merge, on the cluster, with:\n  %s -n %d -only %s -- %s\n",
			plural(len(bad), "it", "them"), submit, n, list, flags)
		shard := fmt.Sprintf("I/%d for each I in %s", n, list)
		if len(bad) == 1 {
			shard = fmt.Sprintf("%d/%d", bad[0].i, n)
		}
		fmt.Fprintf(r.stderr, "(without Slurm: %s %s -shard %s, then %s %s -merge)\n",
			shellQuote(os.Args[0]), flags, shard, shellQuote(os.Args[0]), flags)
	} else {
		fmt.Fprintf(r.stderr, "Rerun %s, then merge:\n", plural(len(bad), "it", "them"))
		for _, st := range bad {
			fmt.Fprintf(r.stderr, "  %s %s -shard %d/%d\n", shellQuote(os.Args[0]), flags, st.i, n)
		}
		fmt.Fprintf(r.stderr, "  %s %s -merge\n", shellQuote(os.Args[0]), flags)
		fmt.Fprintf(r.stderr, "(on Slurm: examples/reproduce/slurm/submit.sh -n %d -only %s -- %s)\n", n, list, flags)
	}
	return nil, fmt.Errorf("-merge: shard %s of %d not finished (see above)", list, n)
}

// shardState reads shard i of n without writing to it.
func (r *runner) shardState(cfg manstudy.Config, i, n int) (shardState, error) {
	st := shardState{i: i, n: n, dir: r.path(shardsDir, fmt.Sprintf("shard-%d-of-%d", i, n))}
	cfg.Shard, cfg.Shards, cfg.DryRun = i, n, true
	s, err := manstudy.Open(st.dir, cfg)
	switch {
	case errors.Is(err, manstudy.ErrMismatch):
		st.why = "it holds results of other settings than this command's"
		return st, nil
	case err != nil:
		return st, err
	}
	if _, err := os.Stat(filepath.Join(st.dir, manstudy.ManifestFile)); err != nil {
		st.why = "not started"
	}
	man := s.Manifest()
	for _, stage := range cfg.Stages {
		st.missing += len(s.Pending(stage))
		for _, u := range s.Mine() {
			if man.InScope(stage, u.Set, u.Emotion) {
				st.results++
			}
		}
	}
	return st, nil
}

// withoutMerge is the command line args without -merge.
func withoutMerge(args []string) []string {
	var out []string
	for _, a := range args {
		switch strings.TrimLeft(a, "-") {
		case "merge", "merge=true", "merge=1", "merge=t", "merge=T", "merge=TRUE", "merge=True":
			if strings.HasPrefix(a, "-") {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
