//! memdrive's learned controllers: networks written on nalgebra, their imitation training, the
//! snapshots of what they remember, and the safetensors weight files they live in.
//!
//! Conventions, for every module of this crate:
//! - A network sees the simulator's `Observation` vector normalised by statistics stored beside
//!   its weights, and outputs steering and acceleration squashed into the car's limits
//!   (`action::ActionScale`).
//! - Networks are immutable while they act; anything carried from step to step (a recurrent
//!   state, a window of frames) is a value the controller owns and can show, clear or probe.
//! - Matrices are `f32`, row-major in weight files (as PyTorch stores them), shapes written
//!   beside their use: `// (units, inputs)`.
//! - No egui here: the app draws `MemorySnapshot`s, plain data.

pub mod action;
pub mod adam;
pub mod bounds;
pub mod dataset;
pub mod invalid;
pub mod kernels;
pub mod layers;
pub mod memory;
pub mod model;
pub mod nets;
pub mod normaliser;
pub mod snapshot;
#[cfg(test)]
mod test_support;
pub mod train;
pub mod weights;

pub use invalid::Invalid;
pub use model::Model;
pub use nets::{Ablation, Bundled, Kind, ModelKind, Net, gru, hebbian, lru, rbf, transformer};
pub use snapshot::MemorySnapshot;

use memdrive_sim::Controller;
use std::path::PathBuf;

/// A controller whose memory can be inspected, cleared, copied out and put back.
pub trait MemoryController: Controller {
    /// What it holds now, as plain data.
    fn memory(&self) -> MemorySnapshot;
    /// Clears short-term memory only (its weights, the long-term memory, stay).
    fn forget(&mut self);
    /// Its short-term memory as a value: what it carries from one step to the next.
    fn memory_state(&self) -> MemoryState;
    /// Takes `state` as its short-term memory: its own from earlier (resume from the past) or
    /// another controller's of the same kind and size (a transplant). An error names the
    /// mismatch, and the controller keeps its memory.
    fn set_memory_state(&mut self, state: &MemoryState) -> Result<()>;
}

/// A controller's short-term memory as a value the caller owns (as candle's
/// `RNN::step(&self, input, &state) -> state`): copied out, stored, put back or transplanted.
/// What it holds is the kind's own business (a hidden state, a window of frames); it says
/// whose it is, so a controller can refuse one that does not fit.
#[derive(Clone)]
pub struct MemoryState {
    owner: String,
    value: std::sync::Arc<dyn std::any::Any + Send + Sync>,
}

impl MemoryState {
    /// `value`, the memory of `owner` (e.g. "a GRU of 64 units").
    pub fn new<T: std::any::Any + Send + Sync>(owner: impl Into<String>, value: T) -> Self {
        Self {
            owner: owner.into(),
            value: std::sync::Arc::new(value),
        }
    }

    /// Whose memory it is, in words.
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The value, if it is a `T`.
    pub fn get<T: std::any::Any>(&self) -> Option<&T> {
        self.value.downcast_ref()
    }

    /// The value if it is a `T` and `fits` it, or the error a controller described as `into`
    /// gives when asked to take it.
    pub fn take_as<T: std::any::Any>(
        &self,
        into: impl FnOnce() -> String,
        fits: impl FnOnce(&T) -> bool,
    ) -> Result<&T> {
        self.get::<T>()
            .filter(|v| fits(v))
            .ok_or_else(|| Error::MemoryMismatch {
                found: format!("the memory of {}", self.owner),
                into: into(),
            })
    }
}

impl std::fmt::Debug for MemoryState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MemoryState(the memory of {})", self.owner)
    }
}

/// Problems with weight files and training input.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be written.
    #[error("{path}: cannot write: {}", memdrive_sim::files::io_message(error))]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// A weight file could not be read (missing, not a regular file, too large).
    #[error("{path}: cannot read weight file: {problem}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        problem: memdrive_sim::files::FileError,
    },
    /// The bytes are not a valid safetensors file.
    #[error("{path}: not a valid safetensors file: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What the parser found.
        message: String,
    },
    /// The file is safetensors but its contents are not a usable memdrive model.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the metadata key or tensor.
        message: String,
    },
    /// A simulator error (e.g. a scenario for training could not be loaded).
    #[error(transparent)]
    Sim(#[from] memdrive_sim::Error),
    /// A training request that cannot be carried out.
    #[error("{0}")]
    Training(String),
    /// A model configuration that cannot be used.
    #[error(transparent)]
    Config(#[from] Invalid),
    /// Training was stopped by its monitor before it finished.
    #[error("training cancelled")]
    Cancelled,
    /// An ablation the model's kind does not offer.
    #[error("a {kind} has no ablation `{id}`; it has: {known}")]
    UnknownAblation {
        /// The model's kind.
        kind: String,
        /// The ablation asked for.
        id: String,
        /// The ones it offers (or "none").
        known: String,
    },
    /// A memory state that does not fit the controller it was given to.
    #[error("cannot take {found} into {into}")]
    MemoryMismatch {
        /// What the state is.
        found: String,
        /// What the controller is.
        into: String,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
