//! Per-element standardisation of observations, with statistics stored beside the weights.

/// Smallest standard deviation used: constant elements (a one-hot class never seen) map to 0.
const MIN_STD: f32 = 1e-3;

/// `(x - mean) / std`, element by element.
#[derive(Clone, Debug, PartialEq)]
pub struct Normaliser {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl Normaliser {
    /// Statistics of the rows of `data` (row-major, `dim` columns).
    pub fn fit(data: &[f32], dim: usize) -> Self {
        assert!(dim > 0 && data.len().is_multiple_of(dim) && !data.is_empty());
        let rows = (data.len() / dim) as f64;
        let mut mean = vec![0.0f64; dim];
        for row in data.chunks_exact(dim) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += f64::from(x);
            }
        }
        mean.iter_mut().for_each(|m| *m /= rows);
        let mut var = vec![0.0f64; dim];
        for row in data.chunks_exact(dim) {
            for ((v, &x), m) in var.iter_mut().zip(row).zip(&mean) {
                *v += (f64::from(x) - m).powi(2);
            }
        }
        Self {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: var
                .iter()
                .map(|&v| ((v / rows).sqrt() as f32).max(MIN_STD))
                .collect(),
        }
    }

    /// From stored statistics; `None` if the lengths differ or a value is unusable.
    pub fn from_parts(mean: Vec<f32>, std: Vec<f32>) -> Option<Self> {
        let usable = mean.len() == std.len()
            && mean.iter().all(|m| m.is_finite())
            && std.iter().all(|s| s.is_finite() && *s >= MIN_STD);
        usable.then_some(Self { mean, std })
    }

    /// Number of elements.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    /// Means.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// Standard deviations.
    pub fn std(&self) -> &[f32] {
        &self.std
    }

    /// Writes the standardised `x` into `out`.
    pub fn apply(&self, x: &[f32], out: &mut [f32]) {
        assert_eq!(x.len(), self.dim());
        for (((o, &v), m), s) in out.iter_mut().zip(x).zip(&self.mean).zip(&self.std) {
            *o = (v - m) / s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_each_column() {
        // Column 0: 1, 3 -> mean 2, std 1. Column 1: constant 5 -> std floored.
        let n = Normaliser::fit(&[1.0, 5.0, 3.0, 5.0], 2);
        assert_eq!(n.mean(), &[2.0, 5.0]);
        assert_eq!(n.std(), &[1.0, MIN_STD]);
        let mut out = [0.0; 2];
        n.apply(&[3.0, 5.0], &mut out);
        assert_eq!(out, [1.0, 0.0]);
        assert!(Normaliser::from_parts(vec![0.0], vec![0.0]).is_none());
    }
}
