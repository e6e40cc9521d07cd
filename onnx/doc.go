// Package onnx reads ONNX models of convolutional networks and runs them
// on this module's engine.
package onnx
