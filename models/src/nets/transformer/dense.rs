//! Training on a readout at every row of a stretch of frames: each row's readout attends over
//! the window of frames that ends at it, as the controller's would, and the frames' tokens and
//! key/value projections are computed once and shared by every readout that sees them. A
//! single readout costs the tokens of its whole window; a stretch of L rows costs L + K − 1
//! tokens for L labelled readouts.

use super::TransformerParams;
use super::model::*;

/// The labels of a stretch: per row, the action target and, with the auxiliary loss on, the
/// presence target and its weight.
pub struct StretchLabels<'a> {
    /// Two per row of the stretch, as `loss_and_grad` takes them.
    pub targets: &'a [f32],
    /// One per row, with the weight of the presence loss; `None`: off.
    pub presence: Option<(&'a [f32], f32)>,
}

impl TransformerParams {
    /// Loss of the readouts at rows `first..` of `frames` (row-major, oldest first; rows
    /// before `first` are only context), each over the window of at most `window` frames
    /// (1..=K) ending at its row; adds the gradient of their sum, each readout scaled by `weight`, to `grads`
    /// and returns the summed loss. Each row's labels are at its index in `labels`.
    pub fn stretch_loss_and_grad(
        &self,
        frames: &[f32],
        first: usize,
        labels: &StretchLabels<'_>,
        window: usize,
        weight: f32,
        grads: &mut Self,
    ) -> f64 {
        assert!((1..=self.window).contains(&window), "window out of range");
        let d = self.d_model;
        let tokens: Vec<Vec<f32>> = frames
            .chunks_exact(self.inputs)
            .map(|x| self.token(x))
            .collect();
        let rows = tokens.len();
        assert!(first < rows, "no row to read out");
        let cache: Vec<KeyValue> = tokens.iter().map(|t| self.key_value(t)).collect();
        // Gradients gathered per frame over every readout that sees it: (rows, d) row-major.
        let mut dkeys = vec![0.0f32; rows * d];
        let mut dvalues = vec![0.0f32; rows * d];
        let mut dqueries: Vec<Option<Vec<f32>>> = vec![None; rows];
        let mut dtokens = vec![0.0f32; rows * d];
        let mut loss = 0.0;
        let g = &mut grads.tensors;
        for row in first..rows {
            let from = (row + 1).saturating_sub(window);
            // The frames' tokens and layer norms are this function's own: no copy per readout.
            let r = self.readout_driving(&tokens[from..=row], &cache[from..=row]);
            let target = [labels.targets[2 * row], labels.targets[2 * row + 1]];
            let presence = labels.presence.map(|(p, lambda)| (p[row], lambda));
            let (l, dy, dlnf) = self.head_loss(&r, target, presence, weight, g);
            loss += l;
            let dm = self.head_backward(&r, dy, &dlnf, g);
            let back = self.block_to_projections(&r, &dm, g);
            for (a, b) in dtokens[row * d..(row + 1) * d].iter_mut().zip(&back.du) {
                *a += b;
            }
            let seen = from * d..(row + 1) * d;
            for (a, b) in dkeys[seen.clone()].iter_mut().zip(&back.dkeys) {
                *a += b;
            }
            for (a, b) in dvalues[seen].iter_mut().zip(&back.dvalues) {
                *a += b;
            }
            dqueries[row] = Some(back.dquery);
        }
        // Every frame once: its projections and LN1, then its embedding (whose input, the
        // frame, needs no gradient).
        for j in 0..rows {
            let span = j * d..(j + 1) * d;
            let dtoken = &mut dtokens[span.clone()];
            self.frame_backward(
                &cache[j].2,
                &dkeys[span.clone()],
                &dvalues[span],
                dqueries[j].as_deref(),
                g,
                dtoken,
            );
            let frame = &frames[j * self.inputs..(j + 1) * self.inputs];
            let (dw, db) = two(g, EMBED_W, EMBED_B);
            crate::kernels::add_outer(dw, dtoken, frame);
            for (b, t) in db.iter_mut().zip(dtoken.iter()) {
                *b += t;
            }
        }
        loss
    }
}
