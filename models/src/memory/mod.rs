//! Memory instruments: measurements of what a controller remembers, computed from streams of
//! its memory snapshots and the ground truth beside them. No GUI here; the app and the CLI
//! both call these.
//!
//! - **Memory curve.** For every lag k = 0…L, a ridge readout from the controller's *state
//!   vector* at step t to what it observed at step t − k, scored by held-out R²(k); the
//!   capacity is Σₖ max(R²(k), 0). Beside it, R²(k) of the same readout from the current
//!   observation alone, so the world's autocorrelation is not mistaken for memory.
//! - **Belief probe.** A ridge readout from the state to where the nearest hidden pedestrian
//!   really is (relative to the car), scored on held-out episodes by time since it was last
//!   seen: the forgetting curve of a real object.
//! - **Influence.** ‖∂action_t / ∂observation_{t−k}‖ through the networks' own backward passes.
//!
//! State vectors: the RBF's unit activations; the GRU's hidden state; the transformer's value
//! cache, the value projection of every frame in its window ordered by age (K × d_model, zeros
//! for empty slots). The values, not the newest token's hidden vector: the values are
//! everything the attention can read from the window, one slot per frame, so a readout can
//! find any frame in it; the newest token's 32 numbers are a summary the network made for
//! acting, not its working memory. Keys are left out because they are another linear map of
//! the same normalised tokens and would add nothing a linear readout could use.
//!
//! Observation elements the memory curve reconstructs: the 32 lidar distances and the 8 ego
//! elements (speed, lane offset, heading error, kerb distances, curvature ahead), 40 of 136.
//! The other 96 are the beams' one-hot hit classes: binary flags, mostly constant, that say
//! again what the distances already say; a linear readout's R² on them mostly measures their
//! class balance. Elements that hardly vary in the held-out rows (less than 1% of their variance
//! in the training rows) are left out of the average: there R² would divide by almost nothing.
//! Readouts standardise their inputs, so no unit or scale of a state or an observation element
//! favours it; R² does not depend on units either.

mod belief;
mod cholesky;
mod curve;
mod influence;
pub mod live;
pub mod presence;
mod recording;
pub mod ridge;

pub use belief::*;
pub use curve::*;
pub use influence::*;
pub use presence::{Presence, presence_probe};
pub use recording::*;

use crate::{MemoryController, MemorySnapshot, Model};
use memdrive_sim::actors::ActorKind;
use memdrive_sim::geometry::Vec2;
use memdrive_sim::observation::{EgoField, Element};
use memdrive_sim::{Controller, Expert, ObservationSpec, Privileged, ScenarioSpec, World};
use nalgebra::DMatrix;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ridge::{Ridge, column_variances, r_squared};
use serde::Serialize;
use std::ops::Range;

/// Lags of the memory curve and the influence by default (4 s).
pub const DEFAULT_LAGS: usize = 40;
/// Steps of the white-noise probe by default.
pub const NOISE_STEPS: usize = 10_000;
/// First seed of probe episodes: apart from evaluation (below 1,000,000) and training seeds.
pub const PROBE_SEED_BASE: u64 = 2_000_000;
/// Share of a recording (in time) that readouts are fitted on; the rest scores them.
const TRAIN_SHARE: f64 = 0.7;
/// Width of the time-since-seen bins of the belief probe (s).
pub const BELIEF_BIN_S: f64 = 0.5;
/// Bins of the belief probe: 0–0.5 s … 3.5–4 s.
const BELIEF_BINS: usize = 8;

/// How observations reach the controller while its memory is measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Probe {
    /// Frames drawn independently at every step from a pool of real driving frames: lags are
    /// independent, so only memory can explain what is recovered from the past.
    Noise,
    /// Real episodes, driven by the controller itself.
    Driving,
}

#[cfg(test)]
mod tests;
