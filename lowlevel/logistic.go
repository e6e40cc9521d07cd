package lowlevel

import (
	"errors"
	"fmt"
	"math"
)

// ErrNotConverged is returned by FitLogistic when Newton's method does not
// reach its tolerance.
var ErrNotConverged = errors.New("lowlevel: logistic regression did not converge")

// maxNewton bounds FitLogistic's iterations.
const maxNewton = 200

// Logistic is a binary L2-regularised logistic regression:
// P(y = 1 | x) = σ(W·x + B).
type Logistic struct {
	W      []float64
	B      float64
	Lambda float64 // the penalty it was fitted with
	Iters  int     // Newton iterations taken
}

// FitLogistic minimises
//
//	(1/n) Σ_i [log(1 + exp(z_i)) − y_i z_i] + (λ/2)·||W||²,  z_i = W·x_i + B
//
// over the rows x (n rows of p features; the bias B is not penalised) with
// labels y, by Newton's method with a backtracking line search, until the
// gradient's largest component is below 1e-10 (the objective is strictly
// convex for λ > 0, so the minimum is unique). It returns an error
// wrapping ErrNotConverged after 200 iterations. It panics if the rows
// have different lengths, y's length differs, there are no rows, or λ is
// not positive.
func FitLogistic(x [][]float64, y []bool, lambda float64) (*Logistic, error) {
	n := len(x)
	if n == 0 || len(y) != n {
		panic(fmt.Sprintf("lowlevel: %d rows for %d labels", n, len(y)))
	}
	if !(lambda > 0) {
		panic(fmt.Sprintf("lowlevel: penalty %v must be positive", lambda))
	}
	p := len(x[0])
	for i, r := range x {
		if len(r) != p {
			panic(fmt.Sprintf("lowlevel: row %d has %d features, row 0 has %d", i, len(r), p))
		}
	}
	m := p + 1 // the bias is the last coordinate
	w := make([]float64, m)
	z := make([]float64, n)
	grad := make([]float64, m)
	hess := make([]float64, m*m)
	step := make([]float64, m)
	trial := make([]float64, m)
	obj := func(w []float64) float64 {
		s := 0.0
		for i, r := range x {
			zi := w[p]
			for j, v := range r {
				zi += w[j] * v
			}
			z[i] = zi
			s += softplus(zi)
			if y[i] {
				s -= zi
			}
		}
		s /= float64(n)
		reg := 0.0
		for _, v := range w[:p] {
			reg += v * v
		}
		return s + lambda/2*reg
	}
	f := obj(w)
	for it := 1; it <= maxNewton; it++ {
		// Gradient and Hessian at w (z holds its scores).
		clear(grad)
		clear(hess)
		for i, r := range x {
			pi := sigmoid(z[i])
			d := pi
			if y[i] {
				d -= 1
			}
			wt := pi * (1 - pi)
			for j, v := range r {
				grad[j] += d * v
				hr := hess[j*m : j*m+m]
				wv := wt * v
				for k := 0; k <= j; k++ {
					hr[k] += wv * r[k]
				}
				hr[p] += wv
			}
			grad[p] += d
			hess[p*m+p] += wt
		}
		inv := 1 / float64(n)
		gmax := 0.0
		for j := range grad {
			grad[j] *= inv
			if j < p {
				grad[j] += lambda * w[j]
			}
			gmax = max(gmax, math.Abs(grad[j]))
		}
		if gmax < 1e-10 {
			return &Logistic{W: w[:p], B: w[p], Lambda: lambda, Iters: it - 1}, nil
		}
		for j := range m {
			for k := 0; k <= j && k < p; k++ {
				hess[j*m+k] *= inv
			}
		}
		for j := range p {
			hess[j*m+p] = hess[j*m+p] * inv
			hess[j*m+j] += lambda
		}
		hess[p*m+p] *= inv
		// Symmetrise: rows j hold k ≤ j and the bias column; bias row from it.
		for j := range p {
			hess[p*m+j] = hess[j*m+p]
			for k := 0; k < j; k++ {
				hess[k*m+j] = hess[j*m+k]
			}
		}
		if !cholSolve(hess, m, grad, step) {
			return nil, fmt.Errorf("%w: the Hessian is not positive definite at iteration %d", ErrNotConverged, it)
		}
		// Backtracking: accept the largest t = 2^-k that decreases f.
		t := 1.0
		for {
			for j := range w {
				trial[j] = w[j] - t*step[j]
			}
			ft := obj(trial)
			if ft <= f || t < 1e-12 {
				copy(w, trial)
				f = ft
				break
			}
			t /= 2
		}
	}
	return nil, fmt.Errorf("%w: %d Newton iterations (λ = %v)", ErrNotConverged, maxNewton, lambda)
}

// Score returns W·x + B.
func (l *Logistic) Score(x []float64) float64 {
	if len(x) != len(l.W) {
		panic(fmt.Sprintf("lowlevel: %d features for a model of %d", len(x), len(l.W)))
	}
	s := l.B
	for j, v := range x {
		s += l.W[j] * v
	}
	return s
}

// Predict returns whether P(y = 1 | x) > 1/2, i.e. Score(x) > 0.
func (l *Logistic) Predict(x []float64) bool { return l.Score(x) > 0 }

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// softplus is log(1 + exp(z)) without overflow.
func softplus(z float64) float64 {
	if z > 0 {
		return z + math.Log1p(math.Exp(-z))
	}
	return math.Log1p(math.Exp(z))
}

// cholSolve solves A·x = b for the symmetric positive definite m×m A
// (row-major; overwritten by its Cholesky factor), reporting false if A
// is not positive definite.
func cholSolve(a []float64, m int, b, x []float64) bool {
	for j := range m {
		s := a[j*m+j]
		for k := range j {
			s -= a[j*m+k] * a[j*m+k]
		}
		if !(s > 0) {
			return false
		}
		d := math.Sqrt(s)
		a[j*m+j] = d
		for i := j + 1; i < m; i++ {
			s := a[i*m+j]
			ri, rj := a[i*m:i*m+j], a[j*m:j*m+j]
			for k, v := range rj {
				s -= ri[k] * v
			}
			a[i*m+j] = s / d
		}
	}
	copy(x, b)
	for i := range m { // L·u = b
		s := x[i]
		for k := range i {
			s -= a[i*m+k] * x[k]
		}
		x[i] = s / a[i*m+i]
	}
	for i := m - 1; i >= 0; i-- { // Lᵀ·x = u
		s := x[i]
		for k := i + 1; k < m; k++ {
			s -= a[k*m+i] * x[k]
		}
		x[i] = s / a[i*m+i]
	}
	return true
}
