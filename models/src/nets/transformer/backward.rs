//! The transformer's backward pass, and the input influence it gives.

use super::TransformerParams;
use super::model::*;
use crate::kernels::dot;
use crate::layers::{affine_backward, layer_norm_backward};

impl TransformerParams {
    /// How much the squashed action of readout `r` (made by `readout`) depends on each frame of
    /// its window: for every frame, newest first, the Frobenius norm of `∂tanh(y)/∂x` (2 ×
    /// inputs). Frames older than the window are not in it, so their influence is zero.
    pub fn input_influence(&self, r: &Readout) -> Vec<f64> {
        let mut scratch = self.zeros_like();
        let mut squares = vec![0.0f64; r.frames.len()];
        for o in 0..OUTPUTS {
            let a = r.y[o].tanh();
            let mut dy = [0.0f32; OUTPUTS];
            dy[o] = 1.0 - a * a;
            let none = vec![0.0; self.d_model];
            for (lag, dx) in self
                .backward(r, dy, &none, &mut scratch)
                .iter()
                .rev()
                .enumerate()
            {
                squares[lag] += dx.iter().map(|v| f64::from(v * v)).sum::<f64>();
            }
        }
        squares.into_iter().map(f64::sqrt).collect()
    }

    /// Back-propagates `dy = ∂L/∂y`, plus `extra_dlnf`, a gradient reaching the final
    /// features another way, through readout `r`: adds the parameter gradients to `grads` and
    /// returns `∂L/∂x` for every frame, oldest first.
    pub(super) fn backward(
        &self,
        r: &Readout,
        dy: [f32; OUTPUTS],
        extra_dlnf: &[f32],
        grads: &mut Self,
    ) -> Vec<Vec<f32>> {
        let (d, heads, n) = (self.d_model, self.heads, r.tokens.len());
        let dh = d / heads;
        let g = &mut grads.tensors;
        // Head.
        let mut dlnf = extra_dlnf.to_vec();
        {
            let (dw, db) = two(g, HEAD_W, HEAD_B);
            affine_backward(self.t(HEAD_W), &r.lnf.0, &dy, dw, db, &mut dlnf);
        }
        let mut dm = vec![0.0; d];
        {
            let (dg, dbeta) = two(g, LNF_G, LNF_B);
            layer_norm_backward(&r.lnf.1, r.lnf.2, self.t(LNF_G), &dlnf, dg, dbeta, &mut dm);
        }
        // MLP with residual: m = u + fc2(relu(fc1(LN2(u)))).
        let mut du = dm.clone();
        let mut dhidden = vec![0.0; self.d_mlp];
        {
            let (dw, db) = two(g, FC2_W, FC2_B);
            affine_backward(self.t(FC2_W), &r.hidden, &dm, dw, db, &mut dhidden);
        }
        for (dhi, hi) in dhidden.iter_mut().zip(&r.hidden) {
            if *hi <= 0.0 {
                *dhi = 0.0;
            }
        }
        let mut dln2 = vec![0.0; d];
        {
            let (dw, db) = two(g, FC1_W, FC1_B);
            affine_backward(self.t(FC1_W), &r.ln2.0, &dhidden, dw, db, &mut dln2);
        }
        {
            let (dg, dbeta) = two(g, LN2_G, LN2_B);
            layer_norm_backward(&r.ln2.1, r.ln2.2, self.t(LN2_G), &dln2, dg, dbeta, &mut du);
        }
        // Attention with residual: u = t_new + out_proj(heads).
        let mut dtokens = vec![vec![0.0; d]; n];
        for (a, b) in dtokens[n - 1].iter_mut().zip(&du) {
            *a += b;
        }
        let mut dheads = vec![0.0; d];
        {
            let (dw, db) = two(g, O_W, O_B);
            affine_backward(self.t(O_W), &r.heads_out, &du, dw, db, &mut dheads);
        }
        let scale = 1.0 / (dh as f32).sqrt();
        let mut dquery = vec![0.0; d];
        let mut dkeys = vec![vec![0.0; d]; n];
        let mut dvalues = vec![vec![0.0; d]; n];
        for h in 0..heads {
            let span = h * dh..(h + 1) * dh;
            let p = &r.attention[h];
            // o = Σ p_j v_j  →  dv_j = p_j do,  dp_j = do · v_j.
            let dp: Vec<f32> = r
                .values
                .iter()
                .map(|v| dot(&dheads[span.clone()], &v[span.clone()]))
                .collect();
            for (j, dv) in dvalues.iter_mut().enumerate() {
                for (a, b) in dv[span.clone()].iter_mut().zip(&dheads[span.clone()]) {
                    *a += p[j] * b;
                }
            }
            // Softmax: ds_j = p_j (dp_j − Σ p dp).
            let mean: f32 = p.iter().zip(&dp).map(|(a, b)| a * b).sum();
            for j in 0..n {
                let ds = p[j] * (dp[j] - mean) * scale;
                for (i, idx) in span.clone().enumerate() {
                    dquery[idx] += ds * r.keys[j][span.start + i];
                    dkeys[j][idx] += ds * r.query[idx];
                }
            }
        }
        // Keys and values: projections of LN1(t_j) plus age embeddings.
        let mut dln1 = vec![vec![0.0; d]; n];
        for j in 0..n {
            let age = n - 1 - j;
            for i in 0..d {
                g[AGE_K][age * d + i] += dkeys[j][i];
                g[AGE_V][age * d + i] += dvalues[j][i];
            }
            let a = &r.ln1[j].0;
            {
                let (dw, db) = two(g, K_W, K_B);
                affine_backward(self.t(K_W), a, &dkeys[j], dw, db, &mut dln1[j]);
            }
            {
                let (dw, db) = two(g, V_W, V_B);
                affine_backward(self.t(V_W), a, &dvalues[j], dw, db, &mut dln1[j]);
            }
        }
        {
            let (dw, db) = two(g, Q_W, Q_B);
            let a = &r.ln1[n - 1].0;
            affine_backward(self.t(Q_W), a, &dquery, dw, db, &mut dln1[n - 1]);
        }
        for j in 0..n {
            let (xhat, inv) = (&r.ln1[j].1, r.ln1[j].2);
            let (dg, dbeta) = two(g, LN1_G, LN1_B);
            layer_norm_backward(
                xhat,
                inv,
                self.t(LN1_G),
                &dln1[j],
                dg,
                dbeta,
                &mut dtokens[j],
            );
        }
        // Tokens: t_j = W_in x_j + b_in.
        r.frames
            .iter()
            .zip(&dtokens)
            .map(|(frame, dt)| {
                let mut dx = vec![0.0; self.inputs];
                let (dw, db) = two(g, EMBED_W, EMBED_B);
                affine_backward(self.t(EMBED_W), frame, dt, dw, db, &mut dx);
                dx
            })
            .collect()
    }
}

/// Two distinct tensors of a gradient list, mutably.
fn two(g: &mut [Vec<f32>], a: usize, b: usize) -> (&mut [f32], &mut [f32]) {
    assert!(a < b);
    let (left, right) = g.split_at_mut(b);
    (&mut left[a], &mut right[0])
}
