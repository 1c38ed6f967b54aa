//! The linear recurrent unit (Orvieto et al., "Resurrecting Recurrent Neural Networks for Long
//! Sequences", 2023): memory in a linear, diagonal, complex state whose forgetting can be read
//! straight from its parameters.
//!
//! ```text
//! u_t = W_in x_t + b_in                                   (d)
//! λ_j = exp(−exp(ν_j) + i·exp(θ_j)),  γ_j = exp(γlog_j)   (initially √(1 − |λ_j|²))
//! h_t = λ ⊙ h_{t−1} + γ ⊙ (B u_t)                          (N complex: B = B_re + i B_im)
//! y_t = Re(C h_t) + D ⊙ u_t                                (d: C = C_re + i C_im)
//! z_t = relu(W_1 y_t + b_1),  action = W_2 z_t + b_2        (then tanh into the car's limits)
//! ```
//!
//! Each channel j keeps |λ_j|^k of what it held k steps ago: its half-life is ln 2 / exp(ν_j)
//! steps. The complex recurrence is written as real and imaginary parts, forward and backward
//! (backpropagation through time), checked against finite differences in the tests.

mod cell;
mod controller;
mod kind;
#[cfg(test)]
mod tests;
mod theory;
mod train;

pub use cell::{LruParams, StepCache};
pub use controller::{LruController, LruState};
pub use kind::{KIND, Lru};
use serde::{Deserialize, Serialize};

/// Hyper-parameters of the LRU controller and its training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LruConfig {
    /// Width of the input projection and of the recurrence's output.
    pub d_model: usize,
    /// Complex channels of the state.
    pub state: usize,
    /// Width of the MLP after the recurrence.
    pub d_mlp: usize,
    /// Smallest |λ| at initialisation.
    pub r_min: f32,
    /// Largest |λ| at initialisation.
    pub r_max: f32,
    /// Largest phase of λ at initialisation (rad).
    pub max_phase: f32,
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
    /// Weight of the auxiliary presence loss (a logistic head on the MLP's features, in
    /// training only); 0 turns it off.
    pub presence_loss: f32,
    /// Share of the training windows drawn around a row where the expert brakes hard
    /// (hard-example oversampling; 0.4 by default); 0 draws them anywhere and leaves it out of
    /// weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub critical_share: f32,
    /// Rows where the car goes slower than this (m/s) never count as hard braking for
    /// `critical_share`: at a standstill a braking label is a wait, not a stop. 0, the
    /// default, counts every row and leaves it out of weight files.
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub critical_min_speed_mps: f32,
    /// Start training windows from the state the network reaches there when run from its
    /// episode's start, refreshed every this many optimiser steps, rather than from zero
    /// ("stored state"; the burn-in still runs; 500 by default); 0 starts from zero and leaves
    /// it out of weight files (which files written before it existed lack: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero_count")]
    pub stored_state_every: usize,
    /// Polyak averaging: the DAgger rounds and the weight file drive with a running average
    /// of the weights over each round's steps, moved this much less than all the way to the
    /// new weights at each step; training goes on from the weights as trained (0.998 by
    /// default); 0 drives with the weights as trained and leaves it out of weight files
    /// (which files written before it lack: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub average_decay: f32,
    /// Below this speed (m/s) a braking label is trained as 0 m/s²: at a standstill any
    /// braking just holds the car (0.05 by default: at rest); 0 trains every label as it is
    /// and leaves it out of weight files (which files written before it lack: 0).
    #[serde(default, skip_serializing_if = "crate::bounds::is_zero")]
    pub rest_hold_below_mps: f32,
}


impl Default for LruConfig {
    fn default() -> Self {
        Self {
            d_model: 64,
            state: 64,
            d_mlp: 128,
            r_min: 0.9,
            r_max: 0.999,
            max_phase: std::f32::consts::PI,
            learning_rate: 2e-3,
            clip_norm: 1.0,
            window: 96,
            burn_in: 16,
            batch: 16,
            steps_per_round: 3500,
            final_rate_fraction: 0.05,
            presence_loss: 0.5,
            critical_share: 0.4,
            critical_min_speed_mps: 0.0,
            stored_state_every: 500,
            average_decay: 0.998,
            rest_hold_below_mps: 0.05,
        }
    }
}

impl LruConfig {
    /// An error naming the first unusable value: the one check of an LRU configuration, for
    /// training and for weight files alike.
    pub fn validate(&self) -> Result<(), crate::Invalid> {
        use crate::bounds::*;
        let check = || -> Result<(), crate::Invalid> {
            count("d_model", self.d_model, 1, MAX_WIDTH)?;
            count("state", self.state, 1, MAX_WIDTH)?;
            count("d_mlp", self.d_mlp, 1, MAX_WIDTH)?;
            above("r_min", self.r_min, 0.0, 0.9999)?;
            above("r_max", self.r_max, 0.0, 0.9999)?;
            if self.r_min > self.r_max {
                return Err(crate::Invalid::Inconsistent(format!(
                    "r_min ({}) must be at most r_max ({})",
                    self.r_min, self.r_max
                )));
            }
            above("max_phase", self.max_phase, 0.0, std::f32::consts::TAU)?;
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
            count("stored_state_every", self.stored_state_every, 0, MAX_STEPS_PER_ROUND)?;
            gradient_steps(
                "max(d_model, state, d_mlp)",
                self.steps_per_round,
                self.batch,
                self.window,
                self.d_model.max(self.state).max(self.d_mlp),
            )
        };
        check().map_err(|why| why.in_config("LRU"))
    }
}
