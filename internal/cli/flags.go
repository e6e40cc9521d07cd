package cli

import (
	"flag"

	"github.com/emosel/emosel/nn"
	"github.com/emosel/emosel/selectivity"
	"github.com/emosel/emosel/stimuli"
)

// AnalysisFlags are the selectivity analysis's flags, shared by the
// selectivity and reproduce commands so that each means the same there.
type AnalysisFlags struct {
	Keep     float64
	Chance   string
	Variance string
}

// Register defines -keep, -chance and -variance on fs.
func (a *AnalysisFlags) Register(fs *flag.FlagSet) {
	fs.Float64Var(&a.Keep, "keep", selectivity.DefaultKeep, "fraction of channels with a finite SI kept per set and layer (the paper's 0.8)")
	fs.StringVar(&a.Chance, "chance", "all", "chance model of the overlap: all (the layer's channels, the paper's) or valid (channels with\na finite SI in every set)")
	fs.StringVar(&a.Variance, "variance", "population", "variance in d' (Eq 5): population (divide by N, the paper's) or sample (N-1)")
}

// Config checks the flags and returns the analysis they ask for.
func (a AnalysisFlags) Config() (selectivity.StudyConfig, error) {
	var cfg selectivity.StudyConfig
	if !(a.Keep > 0 && a.Keep <= 1) {
		return cfg, Usagef("-keep %v, want a fraction in (0, 1]", a.Keep)
	}
	cfg.Keep = a.Keep
	switch a.Chance {
	case "all":
		cfg.Chance = selectivity.ChanceAll
	case "valid":
		cfg.Chance = selectivity.ChanceValid
	default:
		return cfg, Usagef("-chance %q, want all or valid", a.Chance)
	}
	switch a.Variance {
	case "population":
	case "sample":
		cfg.Index.SampleVariance = true
	default:
		return cfg, Usagef("-variance %q, want population or sample", a.Variance)
	}
	return cfg, nil
}

// ReadoutFlags are the readout's training flags, shared by the manipulate
// and reproduce commands. -train-batch is the training batch; -batch is,
// in every command that has it, the forward pass's.
type ReadoutFlags struct {
	Optimizer string
	LR        float64
	Momentum  float64
	Batch     int
	Balance   string
}

// Register defines -optimizer, -lr, -momentum, -train-batch and -balance on fs
// (-epochs, whose default differs between commands, is theirs).
func (r *ReadoutFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&r.Optimizer, "optimizer", "adam", "readout optimizer: adam (the paper's) or sgd")
	fs.Float64Var(&r.LR, "lr", 1e-3, "readout learning rate")
	fs.Float64Var(&r.Momentum, "momentum", 0, "readout SGD momentum")
	fs.IntVar(&r.Batch, "train-batch", 128, "readout training batch size (the paper's 128)")
	fs.StringVar(&r.Balance, "balance", "auto", "readout loss: on weights each class's cross-entropy by n/(k*n_c) of the training images, so that a\none-vs-rest readout of a minority class cannot win by always answering no; off is plain cross-entropy\n(the paper's); auto is on for a K-category design, off for the paper's")
}

// Config checks the flags and returns the training configuration with
// epochs; kDesign says whether the study is a K-category design (where
// -balance auto means on).
func (r ReadoutFlags) Config(epochs int, kDesign bool) (nn.TrainConfig, error) {
	opt := nn.Adam
	switch r.Optimizer {
	case "adam":
	case "sgd":
		opt = nn.SGD
	default:
		return nn.TrainConfig{}, Usagef("-optimizer %q, want adam or sgd", r.Optimizer)
	}
	if !(r.LR > 0) || r.LR > 1e6 || epochs < 1 || r.Batch < 1 || !(r.Momentum >= 0) {
		return nn.TrainConfig{}, Usagef("readout: -lr %v, -epochs %d, -train-batch %d, -momentum %v: want positive values (momentum >= 0)",
			r.LR, epochs, r.Batch, r.Momentum)
	}
	var bal bool
	switch r.Balance {
	case "auto", "": // "": a ReadoutFlags built in code
		bal = kDesign
	case "on":
		bal = true
	case "off":
	default:
		return nn.TrainConfig{}, Usagef("-balance %q, want auto, on or off", r.Balance)
	}
	return nn.TrainConfig{Optimizer: opt, LR: r.LR, Epochs: epochs, Batch: r.Batch, Momentum: r.Momentum, Balanced: bal}, nil
}

// IsDefault reports whether the flags ask for the paper's readout
// training (Adam, lr 1e-3, batch 128), whatever -balance says.
func (r ReadoutFlags) IsDefault() bool {
	return r.Optimizer == "adam" && r.LR == 1e-3 && r.Momentum == 0 && r.Batch == 128
}

// DesignFlags choose the stimulus design and the criterion for selective
// channels, shared by the commands that load stimulus sets.
type DesignFlags struct {
	Rating, Thresholds, Label, Categories string
	Select                                string
	Alpha                                 float64
}

// Register defines -rating, -thresholds, -label, -categories, -select and
// -alpha on fs.
func (d *DesignFlags) Register(fs *flag.FlagSet) {
	fs.StringVar(&d.Rating, "rating", "", "design: cut this numeric ratings.csv column (e.g. arousal) at -thresholds into categories\n(default: the paper's valence design with -low/-high)")
	fs.StringVar(&d.Thresholds, "thresholds", "", "design: ascending cuts of -rating, comma-separated (e.g. 3.5,6: low, middle, high)")
	fs.StringVar(&d.Label, "label", "", "design: take the categories from this ratings.csv column (e.g. category: face, object)")
	fs.StringVar(&d.Categories, "categories", "", "design: category names in order, comma-separated (default: low/middle/high for -rating,\nthe sorted values for -label)")
	fs.StringVar(&d.Select, "select", "si", "selective channels: si (top -keep by SI, the paper's), anova (one-way ANOVA, BH FDR -alpha)\nor nasr (ANOVA p < -alpha uncorrected, Nasr et al. 2019)")
	fs.Float64Var(&d.Alpha, "alpha", 0, "level of -select anova (default 0.05 FDR) or nasr (default 0.01)")
}

// Design checks the flags and returns the design and criterion.
func (d DesignFlags) Design() (stimuli.Design, selectivity.Criterion, error) {
	des, err := stimuli.ParseDesign(d.Rating, d.Thresholds, d.Label, d.Categories)
	if err != nil {
		return des, 0, Usagef("%v", err)
	}
	crit, err := selectivity.ParseCriterion(d.Select)
	if err != nil {
		return des, 0, Usagef("%v", err)
	}
	if !(d.Alpha >= 0 && d.Alpha < 1) {
		return des, 0, Usagef("-alpha %v, want a level in (0, 1)", d.Alpha)
	}
	return des, crit, nil
}

// IsDefault reports whether the flags ask for the paper's design and
// criterion.
func (d DesignFlags) IsDefault() bool {
	return d.Rating == "" && d.Thresholds == "" && d.Label == "" && d.Categories == "" && d.Select == "si" && d.Alpha == 0
}
