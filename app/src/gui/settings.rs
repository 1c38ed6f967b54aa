//! What the app remembers between launches (through eframe's persistence): layout, toggles,
//! speed, the last scenario and seed, the training panel's settings.

use super::training::TrainRequest;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Simulation speed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Speed {
    /// ¼×.
    Quarter,
    /// ½×.
    Half,
    /// Real time.
    One,
    /// 2×.
    Two,
    /// 4×.
    Four,
    /// 8×.
    Eight,
    /// As many steps as fit in each frame.
    Max,
}

impl Speed {
    /// Every speed, slowest first.
    pub const ALL: [Self; 7] = [
        Self::Quarter,
        Self::Half,
        Self::One,
        Self::Two,
        Self::Four,
        Self::Eight,
        Self::Max,
    ];

    /// Simulated seconds per wall second; `None` for as fast as possible.
    pub fn factor(self) -> Option<f64> {
        match self {
            Self::Quarter => Some(0.25),
            Self::Half => Some(0.5),
            Self::One => Some(1.0),
            Self::Two => Some(2.0),
            Self::Four => Some(4.0),
            Self::Eight => Some(8.0),
            Self::Max => None,
        }
    }

    /// As shown in the picker.
    pub fn label(self) -> &'static str {
        match self {
            Self::Quarter => "¼×",
            Self::Half => "½×",
            Self::One => "1×",
            Self::Two => "2×",
            Self::Four => "4×",
            Self::Eight => "8×",
            Self::Max => "as fast as possible",
        }
    }
}

/// How the lanes are arranged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layout {
    /// All side by side.
    Columns,
    /// Two per row.
    Grid,
}

impl Layout {
    /// As shown in the picker.
    pub fn label(self) -> &'static str {
        match self {
            Self::Columns => "side by side",
            Self::Grid => "two per row",
        }
    }
}

/// Which scenario is open.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ScenarioChoice {
    /// A built-in scenario, by name.
    Builtin(String),
    /// A scenario file.
    File(PathBuf),
}

impl Default for ScenarioChoice {
    fn default() -> Self {
        Self::Builtin("occluded_crossing".into())
    }
}

impl ScenarioChoice {
    /// As shown in the picker.
    pub fn label(&self) -> String {
        match self {
            Self::Builtin(name) => name.clone(),
            Self::File(path) => path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
        }
    }
}

/// Everything that persists.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Simulation speed.
    pub speed: Speed,
    /// Draw what the ego cannot see now.
    pub hidden_truth: bool,
    /// Draw lidar rays.
    pub rays: bool,
    /// Draw the key to colours and shapes in each world view.
    pub legend: bool,
    /// Show the expert as a fourth lane.
    pub expert_lane: bool,
    /// Lane arrangement.
    pub layout: Layout,
    /// The scenario.
    pub scenario: ScenarioChoice,
    /// The episode seed.
    pub seed: u64,
    /// The Gap slider's seconds, kept for every scenario with a memory gap (`memory_gap.gap_s`);
    /// `None`: the scenario's own, drawn per seed.
    pub gap_s: Option<f64>,
    /// Training panel shown.
    pub training_open: bool,
    /// Memory instruments panel shown.
    pub instruments_open: bool,
    /// Belief ghosts drawn in the world views.
    pub ghosts: bool,
    /// Training panel settings.
    pub train: TrainRequest,
    /// Scenario files opened before, listed in the picker after the built-ins.
    pub scenario_files: Vec<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            speed: Speed::One,
            hidden_truth: true,
            rays: true,
            legend: true,
            expert_lane: false,
            layout: Layout::Columns,
            scenario: ScenarioChoice::default(),
            // A seed in which the pedestrian hides behind the truck and steps out.
            seed: 7,
            gap_s: None,
            training_open: false,
            instruments_open: true,
            ghosts: true,
            train: TrainRequest::default(),
            scenario_files: Vec::new(),
        }
    }
}
