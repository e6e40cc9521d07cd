package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestTable1Report checks the report's Table 1 against a hand-written
// table1.csv: signed percentages as stored (a lesion's fall negative, as
// in the CSV), and "no selective neurons" where an experiment ran but no
// layer had any, a dash where it did not run.
func TestTable1Report(t *testing.T) {
	path := filepath.Join(t.TempDir(), "table1.csv")
	csv := "set,emotion,original_f1,enhanced_f1,enhanced_layer,enhanced_alpha,enhanced_pct,lesioned_f1,lesioned_layer,lesioned_pct\n" +
		"a,pleasant,0.5,0.6,conv3_1,1.5,20,0.125,conv5_3,-75\n" +
		"a,neutral,0.5,NaN,,NaN,NaN,NaN,,NaN\n"
	if err := os.WriteFile(path, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		stages []string
		want   [][]string
	}{
		{[]string{"lesion", "sweep"}, [][]string{
			{"a", "pleasant", "0.500", "0.600", "conv3_1, α 1.50", "+20.0%", "0.125", "conv5_3", "-75.0%"},
			{"a", "neutral", "0.500", "–", "no selective neurons", "–", "–", "no selective neurons", "–"},
		}},
		{[]string{"lesion"}, [][]string{
			{"a", "pleasant", "0.500", "0.600", "conv3_1, α 1.50", "+20.0%", "0.125", "conv5_3", "-75.0%"},
			{"a", "neutral", "0.500", "–", "", "–", "–", "no selective neurons", "–"},
		}},
	} {
		b, err := table1(path, c.stages)
		if err != nil {
			t.Fatal(err)
		}
		tb := b.(table)
		for i, row := range c.want {
			if !slices.Equal(tb.rows[i], row) {
				t.Errorf("stages %v, row %d:\n got %q\nwant %q", c.stages, i, tb.rows[i], row)
			}
		}
	}
}
