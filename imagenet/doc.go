// Package imagenet turns image files into the exact input tensor PyTorch
// builds for an ImageNet network from a PIL image converted to grey, and
// holds the 1000 ImageNet class names.
//
// # Layout
//
// The pipeline is torchvision's, on Image.open(path).convert("L"):
//
//	Decode      PNG or JPEG -> the pixels PIL holds (JPEG decoded as
//	            libjpeg-turbo does, by our own decoder in internal/jpeg)
//	Gray        -> 8-bit grey, PIL's convert("L") (ITU-R 601-2 luma in
//	            Pillow's integer arithmetic)
//	Config.Fit  Squash: Resize((S, S)); CenterCrop: Resize(R), CenterCrop(S)
//	            (Resize is PIL's antialiased BILINEAR, in Pillow's fixed point)
//	Normalize   Grayscale(3), ToTensor, Normalize(Mean, Std) -> [1,3,S,S]
//
// ReadGray/LoadGray do the first two steps (for a JPEG in one, converting
// each row to grey as it is decoded), Config.Read/Load/LoadBatch all
// of them; each step is also exported for reuse. The zero Config is the
// paper's: Squash to 224×224. Tensors are float32 NCHW, N always present.
//
// Every step matches PIL 9.4 / torchvision 0.14 bit for bit on the test
// fixtures (testdata/gen/preprocess.py in the repository root makes them):
// grey bytes for every PNG layout (1/2/4/8/16-bit grey, grey+alpha, RGB,
// RGBA, palette, with and without tRNS) and JPEG layout (grey, YCbCr 4:4:4,
// 4:2:2, 4:2:0, 4:4:0, 4:1:1, progressive, RGB, CMYK, YCCK), resized
// pixels, and the final float32 tensors. Arithmetic-coded JPEGs
// (sequential and progressive, with restart intervals and DAC
// conditioning) match PIL's pixels on internal/jpeg's fixtures
// (internal/jpeg/testdata/arith/gen.py).
//
// Like PIL's Image.open, decoding ignores EXIF orientation, ICC profiles
// and PNG gamma. Not reproduced: libjpeg's block smoothing of progressive
// JPEGs whose scans leave coefficients unsent (it only applies to such
// incomplete files), and 12-bit, lossless and hierarchical JPEG, which
// are refused with ErrFormat.
//
// Labels, Label and TopK map logits to class names in torchvision's
// class-index order.
//
// # Errors and panics
//
// Bad data returns an error, never a panic: a file that is not a PNG or
// JPEG, is corrupt or truncated, or uses an unsupported JPEG feature
// (12-bit samples, lossless or hierarchical coding, unusual sampling
// layouts), or whose header claims more pixels than the rest of the file
// could encode (for arithmetic coding, which can code millions of flat
// pixels in a byte, this is a weak bound), wraps ErrFormat; one whose
// header claims more than MaxPixels pixels wraps ErrTooLarge. Both header checks come before any pixel memory is
// allocated. Errors from the file-based functions name the file.
//
// Programmer misuse panics with an "imagenet: ..." message: a negative or
// zero Resize size, a Config with a negative size or unknown Mode, a
// NormalizeInto buffer of the wrong length, a negative TopK k, a class index
// out of range.
package imagenet
