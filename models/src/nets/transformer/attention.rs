//! Attention: the newest frame's query against every frame in the window, by age; forward and
//! backward side by side.
//!
//! ```text
//! a_j  = LN1(t_j)
//! q    = W_q a_new + b_q,  k_j = W_k a_j + b_k + K_age[age_j],  v_j = W_v a_j + b_v + V_age[age_j]
//! head h: p_h = softmax_j(q_h · k_{j,h} / √d_head),   o_h = Σ_j p_{h,j} v_{j,h}
//! ```
//!
//! The age embedding is added after the projections, so a frame's projections never change as
//! it ages: they are the key-value cache (`key_value`).

use super::TransformerParams;
use super::model::*;
use crate::kernels::{affine, dot};
use crate::layers::{NormOut, affine_backward, layer_norm, layer_norm_backward};

/// What attention computed, kept for the backward pass.
pub(super) struct Attended {
    /// Each frame's key with its age embedding, oldest first: (n, d), row-major.
    pub keys: Vec<f32>,
    /// Each frame's value with its age embedding: (n, d), row-major.
    pub values: Vec<f32>,
    /// The newest frame's query: (d,).
    pub query: Vec<f32>,
    /// Each head's weights over the frames: (heads, n).
    pub attention: Vec<Vec<f32>>,
    /// The heads' outputs side by side, [o_1 … o_H]: (d,).
    pub heads_out: Vec<f32>,
}

impl TransformerParams {
    /// Key and value projections of a token (age embedding not yet added): the cache entry.
    pub fn key_value(&self, token: &[f32]) -> KeyValue {
        let ln = layer_norm(token, self.t(LN1_G), self.t(LN1_B)); // (d,)
        let (mut k, mut v) = (vec![0.0; self.d_model], vec![0.0; self.d_model]); // (d,) each
        affine(self.t(K_W), self.t(K_B), &ln.0, &mut k);
        affine(self.t(V_W), self.t(V_B), &ln.0, &mut v);
        (k, v, ln)
    }

    /// The newest of the cached frames (oldest first) attending to all of them.
    pub(super) fn attend(&self, cache: &[KeyValue]) -> Attended {
        let (d, heads) = (self.d_model, self.heads);
        let dh = d / heads;
        let n = cache.len();
        // Frame j (oldest first) has age n-1-j.
        let (mut keys, mut values) = (Vec::with_capacity(n * d), Vec::with_capacity(n * d));
        for (j, (k, v, _)) in cache.iter().enumerate() {
            let ages = (n - 1 - j) * d..(n - j) * d;
            let (age_k, age_v) = (&self.t(AGE_K)[ages.clone()], &self.t(AGE_V)[ages]);
            keys.extend(k.iter().zip(age_k).map(|(a, b)| a + b));
            values.extend(v.iter().zip(age_v).map(|(a, b)| a + b));
        }
        let newest_ln = &cache[n - 1].2.0;
        let mut query = vec![0.0; d];
        affine(self.t(Q_W), self.t(Q_B), newest_ln, &mut query);
        let scale = 1.0 / (dh as f32).sqrt();
        let mut attention = Vec::with_capacity(heads);
        let mut heads_out = vec![0.0; d];
        for h in 0..heads {
            let span = h * dh..(h + 1) * dh;
            let scores: Vec<f32> = keys
                .chunks_exact(d)
                .map(|k| dot(&query[span.clone()], &k[span.clone()]) * scale)
                .collect();
            let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let exps: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
            let total: f32 = exps.iter().sum();
            let p: Vec<f32> = exps.iter().map(|e| e / total).collect();
            for (pj, v) in p.iter().zip(values.chunks_exact(d)) {
                for (o, vi) in heads_out[span.clone()].iter_mut().zip(&v[span.clone()]) {
                    *o += pj * vi;
                }
            }
            attention.push(p);
        }
        Attended {
            keys,
            values,
            query,
            attention,
            heads_out,
        }
    }

    /// The age embeddings' gradients from one readout's keys and values ((n, d) row-major,
    /// oldest first; frame j of n has age n-1-j), added to `g`.
    pub(super) fn age_backward(&self, dkeys: &[f32], dvalues: &[f32], g: &mut [Vec<f32>]) {
        let (d, n) = (self.d_model, dkeys.len() / self.d_model);
        for j in 0..n {
            let age = n - 1 - j;
            for i in 0..d {
                g[AGE_K][age * d + i] += dkeys[j * d + i];
                g[AGE_V][age * d + i] += dvalues[j * d + i];
            }
        }
    }

    /// Back through one frame's key and value projections (and its query projection, when it
    /// was a readout's newest frame) and its LN1: given their gradients, adds the parameters'
    /// to `g` and `∂L/∂t` to `dtoken`.
    pub(super) fn frame_backward(
        &self,
        ln1: &NormOut,
        dkey: &[f32],
        dvalue: &[f32],
        dquery: Option<&[f32]>,
        g: &mut [Vec<f32>],
        dtoken: &mut [f32],
    ) {
        let mut dln1 = vec![0.0; self.d_model]; // (d,)
        let a = &ln1.0;
        {
            let (dw, db) = two(g, K_W, K_B);
            affine_backward(self.t(K_W), a, dkey, dw, db, &mut dln1);
        }
        {
            let (dw, db) = two(g, V_W, V_B);
            affine_backward(self.t(V_W), a, dvalue, dw, db, &mut dln1);
        }
        if let Some(dquery) = dquery {
            let (dw, db) = two(g, Q_W, Q_B);
            affine_backward(self.t(Q_W), a, dquery, dw, db, &mut dln1);
        }
        let (dg, dbeta) = two(g, LN1_G, LN1_B);
        layer_norm_backward(&ln1.1, ln1.2, self.t(LN1_G), &dln1, dg, dbeta, dtoken);
    }

    /// Back through the softmax and the weighted sums of readout `r`: given `dheads`, the
    /// gradients of the newest frame's query, (d,), and of every frame's key and value with
    /// its age embedding, (n, d) row-major each. Nothing is added to the parameters'
    /// gradients.
    pub(super) fn scores_backward(
        &self,
        r: &Readout,
        dheads: &[f32],
    ) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let (d, heads) = (self.d_model, self.heads);
        let n = r.keys.len() / d;
        let dh = d / heads;
        let scale = 1.0 / (dh as f32).sqrt();
        let mut dquery = vec![0.0; d]; // (d,)
        let mut dkeys = vec![0.0; n * d]; // (n, d)
        let mut dvalues = vec![0.0; n * d]; // (n, d)
        for h in 0..heads {
            let span = h * dh..(h + 1) * dh;
            let p = &r.attention[h];
            // o = Σ p_j v_j  →  dv_j = p_j do,  dp_j = do · v_j.
            let dp: Vec<f32> = r
                .values
                .chunks_exact(d)
                .map(|v| dot(&dheads[span.clone()], &v[span.clone()]))
                .collect();
            for (j, dv) in dvalues.chunks_exact_mut(d).enumerate() {
                for (a, b) in dv[span.clone()].iter_mut().zip(&dheads[span.clone()]) {
                    *a += p[j] * b;
                }
            }
            // Softmax: ds_j = p_j (dp_j − Σ p dp).
            let mean: f32 = p.iter().zip(&dp).map(|(a, b)| a * b).sum();
            for j in 0..n {
                let ds = p[j] * (dp[j] - mean) * scale;
                for idx in span.clone() {
                    dquery[idx] += ds * r.keys[j * d + idx];
                    dkeys[j * d + idx] += ds * r.query[idx];
                }
            }
        }
        (dquery, dkeys, dvalues)
    }
}
