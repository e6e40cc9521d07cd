// Package alexnet builds torchvision's AlexNet with torchvision's
// state-dict keys and the paper's layer names.
//
// # Layout
//
// The network is an nn.Model over one flat nn.Sequential whose child names
// are torchvision's key prefixes: "features.0" … "features.12", "avgpool",
// "flatten", "classifier.0" … "classifier.6". Its units are "conv1" …
// "conv5" (the ReLU after each convolution) and "fc6", "fc7" (the ReLUs
// after classifier.1 and classifier.4). Input is [N,3,H,W] (224×224,
// ImageNet-normalised; see package imagenet), output [N,Classes].
//
// # Errors and panics
//
// Load and LoadFile return errors for bad weight files (see package
// weights), naming the file and the key. Misuse of Config (negative sizes)
// panics with an "alexnet: ..." message.
package alexnet
