//! A recurrent network with plastic synapses (Miconi et al., "Differentiable plasticity", 2018,
//! and "Backpropamine", 2019): short-term memory in synapses that change while it acts.
//!
//! ```text
//! h_t    = tanh(W_in x_t + b + (W + α ⊙ Hebb_{t−1}) h_{t−1})
//! M_t    = tanh(w_M · h_t + b_M)                        (a signed neuromodulator)
//! Hebb_t = clip(decay · Hebb_{t−1} + M_t · h_t h_{t−1}ᵀ, ±clip)
//!                          (M > 0: potentiation, M < 0: depression; decay and clip 1 by default)
//! action = W_head h_t + b_head                            (then tanh into the car's limits)
//! ```
//!
//! W_in, W, α, w_M and the head are learned by backpropagation through time through the plastic
//! trace (every gradient checked against finite differences); the trace is the memory the
//! controller carries with its activity, and `forget()` clears both.

mod cell;
mod controller;
mod kind;
#[cfg(test)]
mod tests;
mod train;

pub use cell::{HebbianParams, StepCache, Trajectory};
pub use controller::{HebbianController, HebbianState};
pub use kind::{Hebbian, KIND};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of the Hebbian controller and its training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HebbianConfig {
    /// Hidden units.
    pub hidden: usize,
    /// The share of the Hebbian trace kept from one step to the next (1: the trace fades only
    /// by depression).
    #[serde(default = "one")]
    pub trace_decay: f32,
    /// The bound of every trace entry (±).
    #[serde(default = "one")]
    pub trace_clip: f32,
    /// Adam step size.
    pub learning_rate: f32,
    /// Largest global gradient norm.
    pub clip_norm: f32,
    /// Steps per training window.
    pub window: usize,
    /// Leading steps of a window that only warm the state up.
    pub burn_in: usize,
    /// Windows per gradient step.
    pub batch: usize,
    /// Gradient steps in each training round.
    pub steps_per_round: usize,
    /// The step size falls along a cosine to this fraction of it within each round.
    pub final_rate_fraction: f32,
    /// Weight of the auxiliary presence loss (a logistic head on the activity, in training
    /// only); 0 turns it off.
    pub presence_loss: f32,
    /// Share of the training windows drawn around a row where the expert brakes hard
    /// (hard-example oversampling); 0, the default, draws them anywhere and leaves it out of
    /// weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub critical_share: f32,
    /// Rows where the car goes slower than this (m/s) never count as hard braking for
    /// `critical_share`: at a standstill a braking label is a wait, not a stop. 0, the
    /// default, counts every row and leaves it out of weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub critical_min_speed_mps: f32,
    /// Polyak averaging: the DAgger rounds and the weight file drive with a running average
    /// of the weights over each round's steps, moved this much less than all the way to the
    /// new weights at each step; training goes on from the weights as trained. 0, the
    /// default, drives with the weights as trained and leaves it out of weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub average_decay: f32,
    /// Below this speed (m/s) a braking label is trained as 0 m/s²: at a standstill any
    /// braking just holds the car. 0, the default, trains every label as it is and leaves it
    /// out of weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub rest_hold_below_mps: f32,
    /// Units of a hidden layer (relu) in the head, which then reads the activity and the
    /// present input, as the GRU's does; the memory is still only in the activity and the
    /// trace. 0, the default, reads the activity linearly (as the papers the network follows
    /// do) and leaves it out of weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero_count")]
    pub head_mlp: usize,
    /// Extra weight in the loss of a row where the expert brakes at `CRITICAL_BRAKE_MPS2` or
    /// harder (after `rest_hold_below_mps`): it counts `1 + critical_weight` times. 0, the
    /// default, weighs every row alike and leaves it out of weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub critical_weight: f32,
}

fn one() -> f32 {
    1.0
}

impl Default for HebbianConfig {
    fn default() -> Self {
        Self {
            hidden: 48,
            trace_decay: 1.0,
            trace_clip: 1.0,
            learning_rate: 1e-3,
            clip_norm: 1.0,
            window: 96,
            burn_in: 16,
            batch: 16,
            steps_per_round: 2500,
            final_rate_fraction: 0.05,
            presence_loss: 0.5,
            critical_share: 0.0,
            critical_min_speed_mps: 0.0,
            average_decay: 0.0,
            rest_hold_below_mps: 0.0,
            head_mlp: 0,
            critical_weight: 0.0,
        }
    }
}

impl HebbianConfig {
    /// An error naming the first unusable value: the one check, for training and weight files.
    pub fn validate(&self) -> Result<(), crate::Invalid> {
        use crate::bounds::*;
        let check = || -> Result<(), crate::Invalid> {
            count("hidden", self.hidden, 1, MAX_WIDTH)?;
            above("trace_decay", self.trace_decay, 0.0, 1.0)?;
            above("trace_clip", self.trace_clip, 0.0, 10.0)?;
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
            share("critical_share", self.critical_share)?;
            least_speed("critical_min_speed_mps", self.critical_min_speed_mps)?;
            share("average_decay", self.average_decay)?;
            least_speed("rest_hold_below_mps", self.rest_hold_below_mps)?;
            count("head_mlp", self.head_mlp, 0, MAX_WIDTH)?;
            extra_weight("critical_weight", self.critical_weight)?;
            gradient_steps(
                "hidden",
                self.steps_per_round,
                self.batch,
                self.window,
                self.hidden,
            )?;
            // The trace is hidden² numbers at every step of every window.
            product(
                "batch × window × hidden²",
                &[self.batch, self.window, self.hidden, self.hidden],
                MAX_STEP_ACTIVATIONS,
                "the plastic traces one gradient step keeps",
            )
        };
        check().map_err(|why| why.in_config("Hebbian"))
    }
}
