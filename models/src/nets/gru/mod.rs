//! The recurrent network: a GRU whose hidden state carries what it saw, fading as the update
//! gate lets it, and a linear head reading the action out of the state.
//!
//! Gates follow PyTorch's `nn.GRU` (order r, z, n in the stacked weights):
//!
//! ```text
//! r  = σ(W_ir x + b_ir + W_hr h + b_hr)
//! z  = σ(W_iz x + b_iz + W_hz h + b_hz)
//! n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//! h' = (1 − z) ⊙ n + z ⊙ h
//! y  = W_head h' + b_head          (then tanh into the car's limits)
//! ```
//!
//! The network is immutable while it steps; the hidden state is a value the caller owns. The
//! backward pass is backpropagation through time over a window of steps, checked against
//! finite differences in the tests.

mod cell;
mod controller;
mod kind;
#[cfg(test)]
mod tests;
mod train;

pub use cell::{GruParams, StepCache};
pub use controller::{GruController, HiddenState};
pub use kind::{Gru, KIND};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of the GRU controller and its training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GruConfig {
    /// Hidden units.
    pub hidden: usize,
    /// Adam step size.
    pub learning_rate: f32,
    /// Largest global gradient norm.
    pub clip_norm: f32,
    /// Steps per training window (backpropagation through time runs over all of them).
    pub window: usize,
    /// Leading steps of a window that only warm the hidden state up (no loss), unless the
    /// window starts at the beginning of its episode, where the state is truly zero.
    pub burn_in: usize,
    /// Windows per gradient step.
    pub batch: usize,
    /// Gradient steps in each training round.
    pub steps_per_round: usize,
    /// Within each round the step size follows a cosine from `learning_rate` down to this
    /// fraction of it, and starts again at the next round (aggregated data, warm restart).
    /// Files written before it existed lack the field: 1, a constant step size.
    #[serde(default = "constant_rate")]
    pub final_rate_fraction: f32,
    /// Weight of the auxiliary presence loss: a logistic head on the hidden state, trained to
    /// tell whether a pedestrian the car saw is hidden ahead now (ground truth, in training
    /// only; the head is not part of the controller). 0 turns it off; files written before it
    /// existed lack the field: 0.
    #[serde(default)]
    pub presence_loss: f32,
    /// Share of the training windows drawn around a row where the expert brakes hard
    /// (hard-example oversampling; 0.2 by default); 0 draws them anywhere and leaves it out of
    /// weight files (which files written before it existed lack: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub critical_share: f32,
    /// Rows where the car goes slower than this (m/s) never count as hard braking for
    /// `critical_share`: at a standstill a braking label is a wait, not a stop. 0, the
    /// default, counts every row and leaves it out of weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub critical_min_speed_mps: f32,
    /// Start training windows from the state the network reaches there when run from its
    /// episode's start, refreshed every this many optimiser steps, rather than from zero
    /// ("stored state"; the burn-in still runs; 500 by default). Without it a window never
    /// starts from a memory older than itself, and a GRU that has stopped with a memory it
    /// never trained from stays stopped. 0 starts from zero and leaves it out of weight files
    /// (which files written before it existed lack: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero_count")]
    pub stored_state_every: usize,
    /// Units of a hidden layer (relu) in the head, which then reads the hidden state and the
    /// present input (64 by default); 0 reads the hidden state linearly and leaves it out of
    /// weight files (which files written before it existed lack: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero_count")]
    pub head_mlp: usize,
    /// Polyak averaging: the DAgger rounds and the weight file drive with a running average
    /// of the weights over each round's steps, moved this much less than all the way to the
    /// new weights at each step; training goes on from the weights as trained. 0 drives with
    /// the weights as trained and leaves it out of weight files (which files written before
    /// it existed lack: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub average_decay: f32,
    /// Below this speed (m/s) a braking label is trained as 0 m/s²: at a standstill any
    /// braking just holds the car. 0 trains every label as it is and leaves it out of weight
    /// files (which files written before it existed lack: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub rest_hold_below_mps: f32,
    /// Share of the training windows drawn around a row where the learner that drove a DAgger
    /// round asked for an acceleration 1.65 m/s² or more from the expert's label (its own
    /// mistakes, as the transformer's `mistake_share`). 0, the default, draws none and leaves
    /// it out of weight files; with `critical_share` it is at most 1.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub mistake_share: f32,
}

/// A step size that does not decay.
fn constant_rate() -> f32 {
    1.0
}

pub use crate::train::cosine_rate;

impl Default for GruConfig {
    fn default() -> Self {
        Self {
            hidden: 64,
            learning_rate: 2e-3,
            clip_norm: 1.0,
            window: 96,
            burn_in: 16,
            batch: 16,
            steps_per_round: 2000,
            final_rate_fraction: 0.05,
            presence_loss: 0.5,
            critical_share: 0.2,
            critical_min_speed_mps: 0.0,
            stored_state_every: 500,
            head_mlp: 64,
            average_decay: 0.0,
            rest_hold_below_mps: 0.0,
            mistake_share: 0.0,
        }
    }
}

impl GruConfig {
    /// An error naming the first unusable value: the one check of a GRU configuration, for
    /// training and for weight files alike.
    pub fn validate(&self) -> Result<(), crate::Invalid> {
        use crate::bounds::*;
        let check = || -> Result<(), crate::Invalid> {
            count("hidden", self.hidden, 1, MAX_WIDTH)?;
            optimiser(
                self.learning_rate,
                self.clip_norm,
                self.batch,
                self.steps_per_round,
            )?;
            count("window", self.window, 2, MAX_WINDOW_STEPS)?;
            count("burn_in", self.burn_in, 0, self.window - 1)?;
            above("final_rate_fraction", self.final_rate_fraction, 0.0, 1.0)?;
            presence_weight(self.presence_loss)?;
            draw_shares(self.critical_share, self.mistake_share)?;
            least_speed("critical_min_speed_mps", self.critical_min_speed_mps)?;
            count("stored_state_every", self.stored_state_every, 0, MAX_STEPS_PER_ROUND)?;
            count("head_mlp", self.head_mlp, 0, MAX_WIDTH)?;
            share("average_decay", self.average_decay)?;
            least_speed("rest_hold_below_mps", self.rest_hold_below_mps)?;
            gradient_steps(
                "hidden",
                self.steps_per_round,
                self.batch,
                self.window,
                self.hidden,
            )
        };
        check().map_err(|why| why.in_config("GRU"))
    }
}
