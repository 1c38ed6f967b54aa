//! The MLP with its residual, `m = u + W_2 relu(W_1 LN2(u) + b_1) + b_2`; forward and backward
//! side by side.

use super::TransformerParams;
use super::model::*;
use crate::kernels::affine;
use crate::layers::{NormOut, affine_backward, layer_norm, layer_norm_backward};

impl TransformerParams {
    /// `(LN2(u), the hidden layer after relu, m)` for the block's stream `u`.
    pub(super) fn mlp(&self, u: &[f32]) -> (NormOut, Vec<f32>, Vec<f32>) {
        let ln2 = layer_norm(u, self.t(LN2_G), self.t(LN2_B)); // (d,)
        let mut hidden = vec![0.0; self.d_mlp]; // (d_mlp,)
        affine(self.t(FC1_W), self.t(FC1_B), &ln2.0, &mut hidden);
        hidden.iter_mut().for_each(|v| *v = v.max(0.0));
        let mut m = vec![0.0; self.d_model]; // (d,)
        affine(self.t(FC2_W), self.t(FC2_B), &hidden, &mut m);
        for (mi, ui) in m.iter_mut().zip(u) {
            *mi += ui;
        }
        (ln2, hidden, m)
    }

    /// Back through the MLP of readout `r`: given `dm = ∂L/∂m`, adds the gradients of its
    /// layers to `g` and returns `∂L/∂u` (through the residual and through the MLP).
    pub(super) fn mlp_backward(&self, r: &Readout, dm: &[f32], g: &mut [Vec<f32>]) -> Vec<f32> {
        let mut du = dm.to_vec(); // (d,)
        let mut dhidden = vec![0.0; self.d_mlp]; // (d_mlp,)
        {
            let (dw, db) = two(g, FC2_W, FC2_B);
            affine_backward(self.t(FC2_W), &r.hidden, dm, dw, db, &mut dhidden);
        }
        for (dhi, hi) in dhidden.iter_mut().zip(&r.hidden) {
            if *hi <= 0.0 {
                *dhi = 0.0;
            }
        }
        let mut dln2 = vec![0.0; self.d_model]; // (d,)
        {
            let (dw, db) = two(g, FC1_W, FC1_B);
            affine_backward(self.t(FC1_W), &r.ln2.0, &dhidden, dw, db, &mut dln2);
        }
        {
            let (dg, dbeta) = two(g, LN2_G, LN2_B);
            layer_norm_backward(&r.ln2.1, r.ln2.2, self.t(LN2_G), &dln2, dg, dbeta, &mut du);
        }
        du
    }
}
