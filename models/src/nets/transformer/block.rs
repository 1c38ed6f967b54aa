//! The block: attention with its residual, `u = t_new + W_o [o_1 … o_H] + b_o`, then the MLP
//! with its residual; forward and backward side by side. One block reads out from the newest
//! token only, which is exact for a single block.

use super::TransformerParams;
use super::model::*;
use crate::kernels::affine;
use crate::layers::affine_backward;

impl TransformerParams {
    /// The block for the newest of `tokens` (oldest first) with their cached projections: a
    /// readout without its final layer norm and head.
    pub(super) fn block(
        &self,
        tokens: &[Vec<f32>],
        cache: &[KeyValue],
        for_backward: bool,
    ) -> Readout {
        let n = tokens.len();
        let a = self.attend(cache);
        let mut u = vec![0.0; self.d_model]; // (d,)
        affine(self.t(O_W), self.t(O_B), &a.heads_out, &mut u);
        for (ui, ti) in u.iter_mut().zip(&tokens[n - 1]) {
            *ui += ti;
        }
        let (ln2, hidden, m) = self.mlp(&u);
        Readout {
            attention: a.attention,
            // What only the full backward pass reads (`block_backward`); a controller driving
            // does not copy its whole window for it at every step.
            tokens: if for_backward {
                tokens.to_vec()
            } else {
                Vec::new()
            },
            ln1: if for_backward {
                cache.iter().map(|c| c.2.clone()).collect()
            } else {
                Vec::new()
            },
            keys: a.keys,
            values: a.values,
            query: a.query,
            heads_out: a.heads_out,
            u,
            ln2,
            hidden,
            m,
            ..Readout::default()
        }
    }

    /// Back through the block of readout `r`: given `dm = ∂L/∂m`, adds the gradients of its
    /// parameters to `g` and returns `∂L/∂t_j` for every token, oldest first: (n, d).
    pub(super) fn block_backward(
        &self,
        r: &Readout,
        dm: &[f32],
        g: &mut [Vec<f32>],
    ) -> Vec<Vec<f32>> {
        let (d, n) = (self.d_model, r.tokens.len());
        let back = self.block_to_projections(r, dm, g);
        let mut dtokens = vec![vec![0.0; d]; n];
        dtokens[n - 1] = back.du;
        for (j, dtoken) in dtokens.iter_mut().enumerate() {
            let dq = (j == n - 1).then_some(back.dquery.as_slice());
            let row = j * d..(j + 1) * d;
            let (dkey, dvalue) = (&back.dkeys[row.clone()], &back.dvalues[row]);
            self.frame_backward(&r.ln1[j], dkey, dvalue, dq, g, dtoken);
        }
        dtokens
    }

    /// Back through the block of readout `r` as far as the frames' projections: the MLP, the
    /// output projection, the attention scores and the age embeddings (their gradients added
    /// to `g`). What is left per frame — its key and value projections, the newest frame's
    /// query and residual, LN1 and the embedding — is for the caller, which may gather it over
    /// several readouts that share frames (`stretch_loss_and_grad`).
    pub(super) fn block_to_projections(
        &self,
        r: &Readout,
        dm: &[f32],
        g: &mut [Vec<f32>],
    ) -> BlockBack {
        let du = self.mlp_backward(r, dm, g);
        let mut dheads = vec![0.0; self.d_model]; // (d,)
        {
            let (dw, db) = two(g, O_W, O_B);
            affine_backward(self.t(O_W), &r.heads_out, &du, dw, db, &mut dheads);
        }
        let (dquery, dkeys, dvalues) = self.scores_backward(r, &dheads);
        self.age_backward(&dkeys, &dvalues, g);
        BlockBack {
            du,
            dquery,
            dkeys,
            dvalues,
        }
    }
}

/// Gradients of one readout where they reach its frames (see `block_to_projections`).
pub(super) struct BlockBack {
    /// Into the newest token through the residual: (d,).
    pub du: Vec<f32>,
    /// Of the newest frame's query: (d,).
    pub dquery: Vec<f32>,
    /// Of every frame's key and value, oldest first: (n, d) row-major each.
    pub dkeys: Vec<f32>,
    pub dvalues: Vec<f32>,
}
