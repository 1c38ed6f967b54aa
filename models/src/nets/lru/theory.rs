//! The LRU's memory curve from its parameters alone. Under the white-noise probe the frames are
//! independent draws with covariance Σ, and the state is linear in them:
//! h_t = Σ_k λ^k ⊙ γ ⊙ B A x_{t−k} + const, with A the input projection over the normaliser.
//! So the state's covariance solves a diagonal Lyapunov equation in closed form,
//!
//! ```text
//! P_ij = E[h_i h_j*] = γ_i γ_j (B G Bᴴ)_ij / (1 − λ_i λ_j*),   G = A Σ Aᵀ
//! Q_ij = E[h_i h_j]  = γ_i γ_j (B G Bᵀ)_ij / (1 − λ_i λ_j)
//! ```
//!
//! and with the state read as real numbers s = [Re h; Im h] (as the instruments read it),
//! Cov(s) = [[Re(P+Q), Im(Q−P)], [Im(P+Q), Re(P−Q)]] / 2. The input k steps ago covaries with
//! it as C_k = λ^k ⊙ γ ⊙ B A Σ, so the best linear readout of element e recovers
//! R²_e(k) = c_eᵀ Cov(s)⁻¹ c_e / Σ_ee, c_e = [Re C_k; Im C_k]_{·,e}: the curve a held-out
//! ridge readout measures, less its finite-sample loss.

use super::LruParams;
use crate::normaliser::Normaliser;
use nalgebra::{Complex, DMatrix};

type C64 = Complex<f64>;

impl LruParams {
    /// The predicted memory curve R²(k), k = 0…`lags`, averaged over `elements` of the raw
    /// observation (those with variance), for frames drawn independently with covariance
    /// `input_cov` (raw units) and read through `normaliser`.
    pub fn predicted_memory_curve(
        &self,
        normaliser: &Normaliser,
        input_cov: &DMatrix<f64>,
        elements: &[usize],
        lags: usize,
    ) -> Vec<f64> {
        let (i_dim, d, n) = (self.inputs, self.d_model, self.state);
        let t = |k: usize| &self.tensors[k];
        // A = W_in · diag(1/std): the projection of a raw frame (its mean only shifts h).
        let a = DMatrix::from_fn(d, i_dim, |r, c| {
            f64::from(t(0)[r * i_dim + c]) / f64::from(normaliser.std()[c])
        });
        let b = DMatrix::from_fn(n, d, |r, c| {
            C64::new(f64::from(t(5)[r * d + c]), f64::from(t(6)[r * d + c]))
        });
        let lambda: Vec<C64> = (0..n)
            .map(|j| {
                let modulus = (-f64::from(t(2)[j]).exp()).exp();
                C64::from_polar(modulus, f64::from(t(3)[j]).exp())
            })
            .collect();
        let gamma: Vec<f64> = t(4).iter().map(|g| f64::from(*g).exp()).collect();
        let a_sigma = &a * input_cov; // (d, I)
        let g = (&a_sigma * a.transpose()).map(|v| C64::new(v, 0.0)); // (d, d)
        let bg = &b * &g; // (N, d)
        let m_h = &bg * b.adjoint(); // B G Bᴴ
        let m_t = &bg * b.transpose(); // B G Bᵀ
        let p = DMatrix::from_fn(n, n, |i, j| {
            m_h[(i, j)] * gamma[i] * gamma[j] / (C64::new(1.0, 0.0) - lambda[i] * lambda[j].conj())
        });
        let q = DMatrix::from_fn(n, n, |i, j| {
            m_t[(i, j)] * gamma[i] * gamma[j] / (C64::new(1.0, 0.0) - lambda[i] * lambda[j])
        });
        let mut cov = DMatrix::<f64>::zeros(2 * n, 2 * n);
        for i in 0..n {
            for j in 0..n {
                let (pq, qp) = (p[(i, j)] + q[(i, j)], q[(i, j)] - p[(i, j)]);
                let pmq = p[(i, j)] - q[(i, j)];
                cov[(i, j)] = 0.5 * pq.re;
                cov[(i, n + j)] = 0.5 * qp.im;
                cov[(n + i, j)] = 0.5 * pq.im;
                cov[(n + i, n + j)] = 0.5 * pmq.re;
            }
        }
        // A whisper of ridge keeps channels the input never reaches from making it singular.
        let jitter = 1e-12 * (cov.trace() / (2 * n) as f64).max(1e-300);
        for i in 0..2 * n {
            cov[(i, i)] += jitter;
        }
        let Some(chol) = cov.cholesky() else {
            return vec![f64::NAN; lags + 1];
        };
        let b_a_sigma = b * a_sigma.map(|v| C64::new(v, 0.0)); // (N, I)
        let kept: Vec<usize> = elements
            .iter()
            .copied()
            .filter(|&e| input_cov[(e, e)] > 1e-12)
            .collect();
        (0..=lags)
            .map(|k| {
                let mut total = 0.0;
                for &e in &kept {
                    let c = nalgebra::DVector::from_fn(2 * n, |r, _| {
                        let j = r % n;
                        let v = lambda[j].powu(k as u32) * gamma[j] * b_a_sigma[(j, e)];
                        if r < n { v.re } else { v.im }
                    });
                    let explained = c.dot(&chol.solve(&c));
                    total += explained / input_cov[(e, e)];
                }
                total / kept.len().max(1) as f64
            })
            .collect()
    }
}
