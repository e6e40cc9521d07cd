package nn

import "github.com/emosel/emosel/tensor"

// Layer is one step of a network, applied to a whole batch.
type Layer interface {
	// Forward returns the layer's output for the batch x, without
	// modifying x.
	Forward(x *tensor.Tensor) *tensor.Tensor
}

// Stateful is a Layer with parameters.
type Stateful interface {
	Layer
	// StateDict returns the parameters by key ("weight", "bias", or
	// prefixed keys for a container). The tensors are the layer's own:
	// read them, but change weights only through LoadStateDict or a
	// layer's SetWeights, which also repack them for the GEMM.
	StateDict() StateDict
	// LoadStateDict copies the parameters in from sd, which must hold
	// exactly the keys and shapes of StateDict. On error nothing is
	// loaded.
	LoadStateDict(sd StateDict) error
}
