//! memdrive's driving world: a road of straight and curved pieces, traffic on the Intelligent
//! Driver Model, pedestrians, parked vehicles, a lidar with real occlusion and sensor faults,
//! scenarios read from TOML files, and the privileged expert driver. No neural networks, no GUI.
//!
//! Conventions, for every module of this crate:
//! - SI units: metres, seconds, radians; names carry them (`speed_mps`, `steer_rad`).
//! - World frame: x east, y north; angles counter-clockwise from +x, wrapped to (-π, π].
//! - Road frame (Frenet): `s_m` along the centreline, `d_m` across it, positive to the left.
//!   Lanes all run towards increasing `s`; lane 0 is the rightmost.
//! - Time advances in control steps of `DT_SECS` = 0.1 s (10 Hz); the car's physics substeps.
//! - Everything is deterministic: a scenario and a seed give the same episode, bit for bit.

pub mod actors;
pub mod controller;
pub mod episode;
pub mod expert;
pub mod files;
pub mod geometry;
pub mod lidar;
pub mod observation;
pub mod parallel;
pub mod road;
pub mod scenario;
pub mod vehicle;
pub mod world;

pub use controller::{Controller, Pilot, Privileged};
pub use episode::{EpisodeResult, drive, run_episode};
pub use expert::{Cruise, Expert};
pub use observation::{Observation, ObservationSpec};
pub use scenario::ScenarioSpec;
pub use vehicle::Controls;
pub use world::{GroundTruth, Outcome, World};

use std::path::PathBuf;

/// Problems with user input to the simulator: scenario names and files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario file could not be read (missing, not a regular file, too large).
    #[error("{path}: cannot read scenario file: {problem}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        problem: files::FileError,
    },
    /// A scenario file is not valid TOML or does not match the format.
    #[error("{origin}: {message}")]
    Parse {
        /// File or built-in it came from.
        origin: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// A value in a scenario is impossible.
    #[error("{origin}: field `{field}` {message}")]
    Invalid {
        /// File or built-in it came from.
        origin: String,
        /// Dotted path of the field, e.g. `road.pieces[1].length_m`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A `--set path=value` that cannot be applied.
    #[error("--set {item}: {message}")]
    Override {
        /// The override as given.
        item: String,
        /// What is wrong with it.
        message: String,
    },
    /// No built-in scenario has this name and no file has this path.
    #[error(
        "unknown scenario `{name}` (not a built-in name nor an existing file); built-in scenarios: {valid}"
    )]
    UnknownScenario {
        /// What was asked for.
        name: String,
        /// The built-in names.
        valid: String,
    },
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
