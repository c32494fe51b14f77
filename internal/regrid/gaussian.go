package regrid

import "math"

// GaussianLatitudes returns the n Gaussian latitudes in degrees, south to
// north, and their weights (summing to 2): the nodes and weights of
// Gauss–Legendre quadrature, x = sin(latitude) being the roots of the
// Legendre polynomial P_n.
func GaussianLatitudes(n int) (lat, weights []float64) {
	lat, weights = make([]float64, n), make([]float64, n)
	for k := 0; k < (n+1)/2; k++ {
		// Tricomi's approximation of the k-th root from the top is within
		// Newton's reach; the roots are symmetric about the equator.
		x := math.Cos(math.Pi * (float64(k) + 0.75) / (float64(n) + 0.5))
		for iter := 0; iter < 100; iter++ {
			p, dp := legendre(n, x)
			dx := p / dp
			x -= dx
			if math.Abs(dx) < 1e-16 {
				break
			}
		}
		_, dp := legendre(n, x)
		w := 2 / ((1 - x*x) * dp * dp)
		if n%2 == 1 && k == n/2 {
			x = 0 // the middle root is the equator exactly
		}
		deg := math.Asin(x) * 180 / math.Pi
		lat[n-1-k], lat[k] = deg, -deg
		weights[n-1-k], weights[k] = w, w
	}
	return lat, weights
}

// legendre evaluates P_n and its derivative at x by the three-term
// recurrence.
func legendre(n int, x float64) (p, dp float64) {
	p0, p1 := 1.0, x
	if n == 0 {
		return 1, 0
	}
	for k := 2; k <= n; k++ {
		p0, p1 = p1, (float64(2*k-1)*x*p1-float64(k-1)*p0)/float64(k)
	}
	return p1, float64(n) * (x*p1 - p0) / (x*x - 1)
}
