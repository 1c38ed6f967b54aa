//! Ridge-regression readouts: fitted on one set of rows, scored by held-out R² on another.
//!
//! Many targets share one design matrix, so `XᵀX` is factorised once and every target column is
//! solved against it; the large products run through nalgebra's blocked matrix multiply.

use super::cholesky::SpdFactor;
use nalgebra::DMatrix;

/// Regularisation, relative to the mean diagonal of the centred `XᵀX`.
pub const RELATIVE_RIDGE: f64 = 1e-3;

/// A fitted linear readout `y = ((x − x̄) / s) B + ȳ`, with `s` each feature's standard
/// deviation, so the penalty treats every feature alike whatever its units.
#[derive(Clone, Debug)]
pub struct Ridge {
    x_mean: Vec<f32>,
    x_scale: Vec<f32>,
    y_mean: Vec<f32>,
    /// (features, targets).
    coefficients: DMatrix<f32>,
}

fn column_means(m: &DMatrix<f32>) -> Vec<f32> {
    let n = m.nrows().max(1) as f64;
    m.column_iter()
        .map(|c| (c.iter().map(|&v| f64::from(v)).sum::<f64>() / n) as f32)
        .collect()
}

fn centred(m: &DMatrix<f32>, means: &[f32]) -> DMatrix<f32> {
    let mut c = m.clone();
    for (mut col, mean) in c.column_iter_mut().zip(means) {
        col.add_scalar_mut(-mean);
    }
    c
}

fn standardised(m: &DMatrix<f32>, means: &[f32], scales: &[f32]) -> DMatrix<f32> {
    let mut c = centred(m, means);
    for (mut col, scale) in c.column_iter_mut().zip(scales) {
        col.scale_mut(1.0 / scale);
    }
    c
}

impl Ridge {
    /// Fits `y ≈ x` over the rows of `x` (rows, features) and `y` (rows, targets).
    pub fn fit(x: &DMatrix<f32>, y: &DMatrix<f32>) -> Self {
        Self::fit_with_ridge(x, y, RELATIVE_RIDGE)
    }

    /// [`Self::fit`] with the regularisation `relative_ridge` (relative to the mean diagonal
    /// of the standardised `XᵀX`) instead of [`RELATIVE_RIDGE`].
    pub fn fit_with_ridge(x: &DMatrix<f32>, y: &DMatrix<f32>, relative_ridge: f64) -> Self {
        assert_eq!(x.nrows(), y.nrows());
        let x_mean = column_means(x);
        let n = x.nrows().max(1) as f64;
        // A constant feature keeps scale 1: it is all zeros once centred.
        let x_scale: Vec<f32> = x
            .column_iter()
            .zip(&x_mean)
            .map(|(c, &m)| {
                let var = c.iter().map(|&v| f64::from(v - m).powi(2)).sum::<f64>() / n;
                if var > 1e-12 { var.sqrt() as f32 } else { 1.0 }
            })
            .collect();
        let y_mean = column_means(y);
        let xc = standardised(x, &x_mean, &x_scale);
        let yc = centred(y, &y_mean);
        let p = x.ncols();
        // An explicit transpose sends the products through the blocked matrix multiply
        // (`tr_mul` computes them as one dot product per entry, several times slower).
        let xt = xc.transpose();
        let gram: DMatrix<f64> = (&xt * &xc).cast();
        let scale = (0..p).map(|i| gram[(i, i)]).sum::<f64>() / p.max(1) as f64;
        let lambda = relative_ridge * scale + 1e-9;
        let regularised = gram + DMatrix::<f64>::identity(p, p) * lambda;
        let xty: DMatrix<f64> = (&xt * &yc).cast();
        // Solved by blocks, so nearly all of it is matrix products (`SpdFactor`).
        let coefficients = match SpdFactor::new(regularised) {
            Some(factor) => factor.solve(&xty),
            // Only a matrix with NaN in it fails: the regularised Gram matrix is positive definite.
            None => DMatrix::zeros(p, y.ncols()),
        };
        Self {
            x_mean,
            x_scale,
            y_mean,
            coefficients: coefficients.cast(),
        }
    }

    /// Predictions for the rows of `x`.
    pub fn predict(&self, x: &DMatrix<f32>) -> DMatrix<f32> {
        let mut out = standardised(x, &self.x_mean, &self.x_scale) * &self.coefficients;
        for (mut col, mean) in out.column_iter_mut().zip(&self.y_mean) {
            col.add_scalar_mut(*mean);
        }
        out
    }

    /// Number of features a row must have.
    pub fn inputs(&self) -> usize {
        self.x_mean.len()
    }

    /// Predictions for one input row. Panics unless `x` has [`Self::inputs`] features.
    pub fn predict_row(&self, x: &[f32]) -> Vec<f32> {
        let row = DMatrix::from_row_slice(1, x.len(), x);
        self.predict(&row).iter().copied().collect()
    }
}

/// Variance of every column.
pub fn column_variances(m: &DMatrix<f32>) -> Vec<f64> {
    m.column_iter()
        .map(|c| {
            let n = c.len().max(1) as f64;
            let mean = c.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            c.iter()
                .map(|&v| (f64::from(v) - mean).powi(2))
                .sum::<f64>()
                / n
        })
        .collect()
}

/// Held-out R² of every target column: `1 − SSE / SST`, SST around the held-out mean. `None`
/// for a column whose held-out variance is below `min_variance` (or zero): one that hardly
/// varies there, where R² would divide by almost nothing.
pub fn r_squared(
    truth: &DMatrix<f32>,
    predicted: &DMatrix<f32>,
    min_variance: &[f64],
) -> Vec<Option<f64>> {
    truth
        .column_iter()
        .zip(predicted.column_iter())
        .zip(min_variance)
        .map(|((t, p), &floor)| {
            let n = t.len().max(1) as f64;
            let mean = t.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            let sst: f64 = t.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum();
            let sse: f64 = t
                .iter()
                .zip(p.iter())
                .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
                .sum();
            (sst > 1e-9 * n && sst >= floor * n).then(|| 1.0 - sse / sst)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// A noiseless linear map is recovered (R² ≈ 1); an independent target scores R² ≈ 0.
    #[test]
    fn recovers_a_linear_map_and_scores_noise_near_zero() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let n = 2000;
        let x = DMatrix::from_fn(n, 5, |_, _| rng.random_range(-1.0f32..1.0));
        let y = DMatrix::from_fn(n, 2, |r, c| {
            if c == 0 {
                2.0 * x[(r, 0)] - x[(r, 3)] + 0.5
            } else {
                rng.random_range(-1.0f32..1.0)
            }
        });
        let (train, test) = (0..1500, 1500..n);
        let rows =
            |m: &DMatrix<f32>, r: std::ops::Range<usize>| m.rows(r.start, r.len()).into_owned();
        let ridge = Ridge::fit(&rows(&x, train.clone()), &rows(&y, train));
        let r2 = r_squared(
            &rows(&y, test.clone()),
            &ridge.predict(&rows(&x, test)),
            &[0.0; 2],
        );
        let fitted = r2[0].unwrap_or(f64::NAN);
        let noise = r2[1].unwrap_or(f64::NAN);
        assert!(fitted > 0.999, "{r2:?}");
        assert!(noise.abs() < 0.02, "{r2:?}");
    }

    #[test]
    fn a_constant_target_has_no_r_squared() {
        let truth = DMatrix::from_element(10, 1, 3.0f32);
        assert_eq!(r_squared(&truth, &truth, &[0.0]), vec![None]);
        // Barely varying where it is scored, against a floor from elsewhere: not scored.
        let almost = DMatrix::from_fn(10, 1, |r, _| 3.0 + 1e-3 * r as f32);
        assert_eq!(r_squared(&almost, &almost, &[1.0]), vec![None]);
    }
}
