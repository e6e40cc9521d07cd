// Package vgg builds torchvision's VGG networks (depths 11, 13, 16 and 19)
// with torchvision's state-dict keys and the paper's layer names.
//
// # Layout
//
// A VGG is an nn.Model over one flat nn.Sequential whose child names are
// torchvision's key prefixes: "features.0" … "features.30" (VGG-16),
// "avgpool", "flatten", "classifier.0" … "classifier.6". Its units are the
// paper's "conv1_1" … "conv5_3" (the ReLU after each convolution) and
// "fc6", "fc7" (the ReLUs after classifier.0 and classifier.3). Input is
// [N,3,H,W] (224×224 for the published weights, ImageNet-normalised; see
// package imagenet), output [N,Classes] logits.
//
// Config scales the width (for small test networks of the same topology),
// the classifier's hidden width and the class count. The batch-norm
// variants are not provided.
//
// # Errors and panics
//
// Load and LoadFile return errors for bad weight files (see package
// weights), naming the file and the key. Misuse of Config (unknown depth,
// negative sizes) panics with a "vgg: ..." message.
package vgg
