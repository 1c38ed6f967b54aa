//! The transformer over the last K frames: exact working memory inside its window, nothing
//! beyond it.
//!
//! Each frame becomes a token `t = W_in x + b_in` (d_model). One pre-norm block reads out from
//! the newest token, which attends to every frame in the window (all of them are its past, so
//! the attention is causal):
//!
//! ```text
//! a_j  = LN1(t_j)
//! q    = W_q a_new + b_q,  k_j = W_k a_j + b_k + K_age[age_j],  v_j = W_v a_j + b_v + V_age[age_j]
//! head h: p_h = softmax_j(q_h · k_{j,h} / √d_head),   o_h = Σ_j p_{h,j} v_{j,h}
//! u    = t_new + W_o [o_1 … o_H] + b_o
//! m    = u + W_2 relu(W_1 LN2(u) + b_1) + b_2
//! y    = W_head LN_f(m) + b_head        (then tanh into the car's limits)
//! ```
//!
//! The frame-age embedding is added to keys and values after their projections, so the
//! projections of a frame never change as it ages: at inference the controller keeps them in a
//! ring buffer (a key-value cache) and one step costs O(K·d), not O(K²·d). With a single block,
//! reading out from the newest token only is exact. Backward passes are checked against finite
//! differences in the tests.

mod attention;
mod block;
mod controller;
mod dense;
mod kind;
mod mlp;
mod model;
#[cfg(test)]
mod tests;
mod train;

pub use controller::{TransformerController, WindowState};
pub use dense::StretchLabels;
pub use kind::{KIND, Transformer};
pub use model::{KeyValue, NAMES, Readout, TransformerParams};
pub use train::train_samples;

use serde::{Deserialize, Serialize};

/// Hyper-parameters of the transformer controller and its training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformerConfig {
    /// Frames in the window (K); 16 frames = 1.6 s.
    pub window: usize,
    /// Token width.
    pub d_model: usize,
    /// Attention heads (d_model must divide evenly).
    pub heads: usize,
    /// Hidden width of the MLP.
    pub d_mlp: usize,
    /// Adam step size.
    pub learning_rate: f32,
    /// Largest global gradient norm.
    pub clip_norm: f32,
    /// Samples (windows) per gradient step.
    pub batch: usize,
    /// Gradient steps in each training round.
    pub steps_per_round: usize,
    /// Weight of the auxiliary presence loss: a logistic head on the readout's final features,
    /// trained to tell whether a pedestrian the car saw is hidden ahead now (ground truth, in
    /// training only; the head is not part of the controller). 0 turns it off; files written
    /// before it existed lack the field: 0.
    #[serde(default)]
    pub presence_loss: f32,
    /// Share of the training readouts drawn within 8 rows of one where the expert brakes
    /// hard (hard-example oversampling); 0, the default, draws them anywhere and leaves it out
    /// of weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub critical_share: f32,
    /// Rows where the car goes slower than this (m/s) never count as hard braking for
    /// `critical_share`: at a standstill a braking label is a wait, not a stop. 0, the
    /// default, counts every row and leaves it out of weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub critical_min_speed_mps: f32,
    /// Share of the training readouts drawn within 8 rows of one where the learner that
    /// drove (a DAgger round's) was far from the expert's label (`train::MISTAKE`): mining
    /// the learner's own mistakes. The default (the bundled recipe's) is 0.2; 0 draws none and
    /// leaves it out of weight files (files written before it lack it: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub mistake_share: f32,
    /// Readouts per drawn sample: at each of this many consecutive rows, every one over the
    /// window ending at it, the frames' tokens computed once for all of them (so a step sees
    /// `batch × stretch` labelled rows). 1, the default, draws single readouts and leaves it
    /// out of weight files.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub stretch: usize,
    /// Shortest window trained on: each drawn sample looks back over a random number of
    /// frames from this to `window`, so the model drives with any window in that range and a
    /// window shrunk at run time keeps working (its cliff moves in). 0, the default, trains
    /// on the full window only and leaves it out of weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero_count")]
    pub min_window: usize,
    /// The fraction of `learning_rate` a round's step size falls to on a cosine, as the
    /// recurrent kinds' does (within 0 and 1). 0, the default, keeps the step size constant
    /// and leaves it out of weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub final_rate_fraction: f32,
    /// Polyak averaging: the controller drives with (and the file holds) a running average
    /// of the parameters over each round's steps, moved this much less than all the way to
    /// the new parameters at each step (e.g. 0.998: the last 500 or so steps count most);
    /// training goes on from the parameters as trained. The default (the bundled recipe's) is
    /// 0.998; 0 drives with the parameters as trained and leaves it out of weight files (files
    /// written before it lack it: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub average_decay: f32,
    /// Below this speed (m/s) a braking label is trained as 0 m/s²: at a standstill every
    /// braking label means the same (stay), and the hardest ones (−8 m/s²) otherwise weigh
    /// a wait far above a pull-away (+1.5) where the two are hard to tell apart. The default
    /// (the bundled recipe's) is 0.05: at rest; 0 trains every label as it is and leaves it
    /// out of weight files (files written before it lack it: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub rest_hold_below_mps: f32,
}


fn one() -> usize {
    1
}

fn is_one(v: &usize) -> bool {
    *v == 1
}

impl Default for TransformerConfig {
    fn default() -> Self {
        Self {
            window: 16,
            // The bundled recipe (docs/driving.md): wider than the first transformer (32 and
            // 64), a fifth of the readouts near hard braking and a fifth near the learner's
            // own mistakes, stretches of 4 readouts, the weights averaged over each round's
            // steps, braking labels at rest trained as 0 m/s², and the presence loss, without
            // which it never learns to wait at memory_gap's barrier for a pedestrian it saw
            // hide (docs/memory-horizon.md).
            d_model: 64,
            heads: 2,
            d_mlp: 128,
            learning_rate: 2e-3,
            clip_norm: 1.0,
            batch: 64,
            steps_per_round: 2500,
            presence_loss: 2.0,
            critical_share: 0.2,
            critical_min_speed_mps: 0.0,
            mistake_share: 0.2,
            stretch: 4,
            min_window: 0,
            final_rate_fraction: 0.0,
            average_decay: 0.998,
            rest_hold_below_mps: 0.05,
        }
    }
}

impl TransformerConfig {
    /// An error naming the first unusable value.
    pub fn validate(&self) -> Result<(), crate::Invalid> {
        use crate::bounds::*;
        let check = || -> Result<(), crate::Invalid> {
            count("window", self.window, 1, MAX_WINDOW_STEPS)?;
            count("d_model", self.d_model, 1, MAX_WIDTH)?;
            count("heads", self.heads, 1, self.d_model.min(16))?;
            if !self.d_model.is_multiple_of(self.heads) {
                return Err(crate::Invalid::Inconsistent(format!(
                    "d_model ({}) must be a multiple of heads ({})",
                    self.d_model, self.heads
                )));
            }
            count("d_mlp", self.d_mlp, 1, 4 * MAX_WIDTH)?;
            presence_weight(self.presence_loss)?;
            draw_shares(self.critical_share, self.mistake_share)?;
            least_speed("critical_min_speed_mps", self.critical_min_speed_mps)?;
            least_speed("rest_hold_below_mps", self.rest_hold_below_mps)?;
            optimiser(
                self.learning_rate,
                self.clip_norm,
                self.batch,
                self.steps_per_round,
            )?;
            count("stretch", self.stretch, 1, MAX_WINDOW_STEPS)?;
            if self.min_window != 0 {
                count("min_window", self.min_window, 1, self.window)?;
            }
            if self.final_rate_fraction != 0.0 {
                above("final_rate_fraction", self.final_rate_fraction, 0.0, 1.0)?;
            }
            share("average_decay", self.average_decay)?;
            // A stretch keeps the frames of its readouts and of the window before the first.
            gradient_steps(
                "max(d_model, d_mlp)",
                self.steps_per_round,
                self.batch,
                self.window + self.stretch - 1,
                self.d_model.max(self.d_mlp),
            )
        };
        check().map_err(|why| why.in_config("transformer"))
    }
}
