package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/emosel/emosel/manipulate"
	"github.com/emosel/emosel/stimuli"
)

// randomFactor parses "random:K" (K ≥ 2); ok is false for anything else.
func randomFactor(spec string) (k int, ok bool, err error) {
	rest, found := strings.CutPrefix(spec, "random:")
	if !found {
		return 0, false, nil
	}
	k, err = strconv.Atoi(rest)
	if err != nil || k < 2 || k > 100 {
		return 0, true, fmt.Errorf("-factor %q: want random:K with K from 2 to 100", spec)
	}
	return k, true, nil
}

// factorLevels returns one level per image of set for the second factor:
// for random:K, level "r<i>" with i drawn from the seed, the set's name
// and the image's file (a null factor); otherwise the column named spec
// of file (a CSV with a file column, joined on it) or, when file is "",
// of the set's own ratings file (the row that described each image). An
// empty cell leaves the image out of the ANOVA; missing counts them.
func factorLevels(set *stimuli.Set, spec, file string, seed uint64) (levels []string, missing int, err error) {
	levels = make([]string, len(set.Images))
	if k, ok, err := randomFactor(spec); ok {
		if err != nil {
			return nil, 0, err
		}
		for i, im := range set.Images {
			levels[i] = fmt.Sprintf("r%d", 1+manipulate.Derive(seed, "factor", set.Name, im.File)%uint64(k))
		}
		return levels, 0, nil
	}
	path := file
	if path == "" {
		path = set.Ratings
	}
	if path == "" {
		return nil, 0, fmt.Errorf("set %s has no ratings file to read the %q column from; give -factor-file", set.Name, spec)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, err
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	raw = bytes.ReplaceAll(raw, []byte("\r"), []byte("\n"))
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, 0, fmt.Errorf("%s is empty", path)
	} else if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", path, err)
	}
	col, fileCol := -1, -1
	for i, h := range head {
		h = strings.TrimSpace(h)
		if strings.EqualFold(h, spec) {
			col = i
		}
		if strings.EqualFold(h, "file") {
			fileCol = i
		}
	}
	if col < 0 {
		return nil, 0, fmt.Errorf("%s:1: no column %q for -factor (columns: %s); name another with -factor, give -factor-file, or use -factor random:3 for a null factor",
			path, spec, strings.Join(head, ", "))
	}
	if file != "" && fileCol < 0 {
		return nil, 0, fmt.Errorf("%s:1: -factor-file needs a file column (columns: %s)", path, strings.Join(head, ", "))
	}
	byLine, byFile := map[int]string{}, map[string]string{}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %w", path, err)
		}
		line, _ := r.FieldPos(0)
		cell := ""
		if col < len(rec) {
			cell = strings.TrimSpace(rec[col])
		}
		if file == "" {
			byLine[line] = cell
			continue
		}
		if fileCol >= len(rec) {
			return nil, 0, fmt.Errorf("%s:%d: row has no file cell", path, line)
		}
		name := strings.TrimSpace(rec[fileCol])
		if prev, dup := byFile[name]; dup && prev != cell {
			return nil, 0, fmt.Errorf("%s:%d: file %q is listed again with another level", path, line, name)
		}
		byFile[name] = cell
	}
	for i, im := range set.Images {
		if file == "" {
			levels[i] = byLine[im.Line]
		} else {
			levels[i] = byFile[im.File]
		}
		if levels[i] == "" && im.Category != stimuli.Unknown {
			missing++
		}
	}
	return levels, missing, nil
}
