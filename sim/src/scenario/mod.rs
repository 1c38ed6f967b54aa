//! Scenarios as data: serde structs read from TOML files, validated, then sampled from a seed.
//!
//! Any number written as `[lo, hi]` instead of a single value is drawn uniformly from that range
//! for each seed, so one file describes a family of episodes. Built-in scenarios are the files in
//! `assets/scenarios/`, compiled into the binary.

mod memory_gap;
mod overrides;
mod param;
mod validate;

pub use memory_gap::{HidingPlace, MemoryGapSpec};
pub use overrides::Override;
pub use param::{Param, ParamError, compact};
pub use validate::limits;

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// A complete scenario definition, as stored in a scenario file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioSpec {
    /// Short identifier, e.g. `occluded_crossing`.
    pub name: String,
    /// One line saying what the scenario tests.
    pub description: String,
    /// Episode length before a timeout (s).
    pub duration_s: f64,
    /// The street.
    pub road: RoadSpec,
    /// The car being driven.
    pub ego: EgoSpec,
    /// Sensor layout.
    #[serde(default)]
    pub lidar: LidarSpec,
    /// Sensor faults.
    #[serde(default)]
    pub faults: FaultSpec,
    /// Individually placed traffic cars.
    #[serde(default)]
    pub cars: Vec<CarSpec>,
    /// Parked vehicles.
    #[serde(default)]
    pub parked: Vec<ParkedSpec>,
    /// Individually scripted pedestrians.
    #[serde(default)]
    pub pedestrians: Vec<PedestrianSpec>,
    /// Randomly placed traffic of every kind.
    #[serde(default)]
    pub random_traffic: Option<RandomTrafficSpec>,
    /// A controlled memory gap (the `memory_gap` scenario).
    #[serde(default)]
    pub memory_gap: Option<MemoryGapSpec>,
}

/// The street's cross-section and centreline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoadSpec {
    /// Number of lanes, all in the direction of travel.
    pub lane_count: i64,
    /// Width of each lane (m).
    #[serde(default = "default_lane_width")]
    pub lane_width_m: f64,
    /// Pavement/parking strip between each kerb and the wall (m).
    #[serde(default = "default_verge")]
    pub verge_m: f64,
    /// Centreline pieces in order.
    pub pieces: Vec<PieceSpec>,
}

fn default_lane_width() -> f64 {
    3.5
}

fn default_verge() -> f64 {
    8.0
}

/// One centreline piece.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PieceSpec {
    /// Length along the centreline (m).
    pub length_m: Param,
    /// Signed curvature, positive turning left (1/m); 0 or absent for a straight.
    #[serde(default = "zero")]
    pub curvature_per_m: Param,
}

fn zero() -> Param {
    Param::ZERO
}

fn one() -> f64 {
    1.0
}

/// The ego car's start and goal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EgoSpec {
    /// Lane it starts in (0 = rightmost).
    pub lane: i64,
    /// Distance along the road where it starts (m).
    pub start_s_m: Param,
    /// Speed at the start (m/s).
    pub speed_mps: Param,
    /// The speed the expert aims for on a free road (m/s).
    pub cruise_speed_mps: Param,
    /// Reaching this distance along the road ends the episode with success (m).
    pub goal_s_m: Param,
    /// The hardest the car can accelerate (m/s²); left out, 3. The expert pulls away at up
    /// to 1.5, so a car held to that cannot gain time on it by pulling away harder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_accel_mps2: Option<f64>,
}

/// Beam count and range.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LidarSpec {
    /// Beams around the car.
    #[serde(default = "default_beams")]
    pub beams: i64,
    /// Range (m).
    #[serde(default = "default_range")]
    pub range_m: f64,
}

impl Default for LidarSpec {
    fn default() -> Self {
        Self {
            beams: default_beams(),
            range_m: default_range(),
        }
    }
}

fn default_beams() -> i64 {
    32
}

fn default_range() -> f64 {
    60.0
}

/// Sensor faults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Standard deviation of Gaussian noise on each reported hit distance (m).
    #[serde(default = "zero")]
    pub noise_std_m: Param,
    /// Windows during which every beam reports nothing.
    #[serde(default)]
    pub dropouts: Vec<DropoutSpec>,
}

/// A window of lidar blackout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DropoutSpec {
    /// Start time (s).
    pub start_s: Param,
    /// Duration (s).
    pub duration_s: Param,
}

/// A traffic car.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CarSpec {
    /// Share of seeds in which it exists.
    #[serde(default = "one")]
    pub probability: f64,
    /// Lane it starts in.
    pub lane: i64,
    /// Start position along the road (m).
    pub s_m: Param,
    /// Start speed (m/s).
    pub speed_mps: Param,
    /// Desired speed for its Intelligent Driver Model (m/s).
    pub desired_speed_mps: Param,
    /// Body length (m).
    #[serde(default = "car_length")]
    pub length_m: f64,
    /// A hard braking manoeuvre.
    #[serde(default)]
    pub brake: Option<BrakeSpec>,
    /// A scripted lane change.
    #[serde(default)]
    pub lane_change: Option<LaneChangeSpec>,
}

fn car_length() -> f64 {
    4.5
}

/// Braking: decelerate to a speed, hold it, then drive on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrakeSpec {
    /// When it starts (s); ignored if `after_dropout_start_s` is given.
    #[serde(default = "zero")]
    pub at_time_s: Param,
    /// Start this long after the first sensor dropout begins (s).
    #[serde(default)]
    pub after_dropout_start_s: Option<Param>,
    /// Deceleration, positive (m/s²).
    pub decel_mps2: Param,
    /// Speed to brake down to (m/s).
    pub to_speed_mps: Param,
    /// How long to hold that speed before driving on (s).
    pub hold_s: Param,
}

/// A lane change, triggered by time and/or by the ego closing in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaneChangeSpec {
    /// Lane to move into.
    pub to_lane: i64,
    /// Earliest start (s).
    #[serde(default = "zero")]
    pub at_time_s: Param,
    /// Start only once this car is at most this far ahead of the ego along the road (m).
    #[serde(default)]
    pub when_ahead_of_ego_within_m: Option<Param>,
    /// Time the move takes (s).
    pub duration_s: Param,
}

/// A parked vehicle.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParkedSpec {
    /// Share of seeds in which it exists.
    #[serde(default = "one")]
    pub probability: f64,
    /// Centre along the road (m).
    pub s_m: Param,
    /// Centre across the road (m): outside the kerb it stands on the verge, inside it blocks.
    pub d_m: Param,
    /// Body length (m).
    pub length_m: Param,
    /// Body width (m).
    pub width_m: Param,
}

/// A pedestrian who walks across the road at one place, possibly pausing on the way.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PedestrianSpec {
    /// Share of seeds in which they exist.
    #[serde(default = "one")]
    pub probability: f64,
    /// Where they cross, along the road (m).
    pub s_m: Param,
    /// Where they start, across the road (m).
    pub from_d_m: Param,
    /// Where they are heading, across the road (m).
    pub to_d_m: Param,
    /// Walking speed (m/s).
    pub speed_mps: Param,
    /// Speed once they leave the pause (m/s); the walking speed if absent.
    #[serde(default)]
    pub step_out_speed_mps: Option<Param>,
    /// Earliest start (s).
    #[serde(default = "zero")]
    pub start_time_s: Param,
    /// Start only once the ego is at most this far before their crossing point (m).
    #[serde(default)]
    pub start_when_ego_within_m: Option<Param>,
    /// Where they stop on the way, across the road (m).
    #[serde(default)]
    pub pause_at_d_m: Option<Param>,
    /// How long they stop there at least (s).
    #[serde(default = "zero")]
    pub pause_s: Param,
    /// After the pause, go on only once the ego will arrive within this time (s) ...
    #[serde(default)]
    pub step_out_when_ego_within_s: Option<Param>,
    /// ... or, if given, once the ego's front is this close to them, however slowly it comes
    /// (m) ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_out_when_ego_within_m: Option<f64>,
    /// Whether they step out without looking: they keep on even into the side of a car
    /// that is already level with them, instead of stopping short of it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub step_out_reckless: bool,
    /// ... or, if given, once the ego has stopped with its front within this distance of them
    /// (m): a car waiting for them to cross ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_out_when_ego_stopped_within_m: Option<f64>,
    /// ... or once they have waited this long beyond the pause (s).
    #[serde(default = "default_patience")]
    pub patience_s: f64,
    /// Share of seeds in which they turn back instead of crossing.
    #[serde(default)]
    pub turn_back_probability: f64,
    /// Where they turn back, across the road (m).
    #[serde(default)]
    pub turn_back_at_d_m: Option<Param>,
    /// How long they stand at `to_d_m` before walking on to `then_to_d_m` (s).
    #[serde(default = "zero")]
    pub linger_s: Param,
    /// Where they walk on to after lingering at `to_d_m`, across the road (m); without it
    /// they stay at `to_d_m`.
    #[serde(default)]
    pub then_to_d_m: Option<Param>,
}

fn default_patience() -> f64 {
    3.0
}

/// Random traffic spread along the road.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomTrafficSpec {
    /// Number of moving cars.
    pub cars: i64,
    /// Number of pedestrians crossing somewhere.
    pub pedestrians: i64,
    /// Number of parked vehicles.
    pub parked: i64,
    /// Desired speeds of the cars (m/s).
    pub car_speed_mps: Param,
    /// Share of parked vehicles that stand in the rightmost lane instead of on the verge.
    #[serde(default)]
    pub blocking_share: f64,
    /// Pedestrian walking speed (m/s).
    pub pedestrian_speed_mps: Param,
    /// When pedestrians start walking (s).
    pub pedestrian_start_s: Param,
}

impl ScenarioSpec {
    /// Parses and validates TOML text; `origin` names the file or built-in in errors.
    pub fn from_toml(text: &str, origin: &str) -> Result<Self> {
        let document = toml::de::Deserializer::parse(text).map_err(|e| Error::Parse {
            origin: origin.to_owned(),
            message: tidy(&e.to_string()),
        })?;
        // The path of a value that fails to deserialise (a reversed range, say) is named as
        // the validator names fields.
        let spec: Self = serde_path_to_error::deserialize(document).map_err(|e| {
            let path = e.path().to_string();
            let message = tidy(&e.into_inner().to_string());
            if path.is_empty() || path == "." {
                Error::Parse {
                    origin: origin.to_owned(),
                    message,
                }
            } else {
                Error::Invalid {
                    origin: origin.to_owned(),
                    field: path,
                    message: format!("is not valid: {message}"),
                }
            }
        })?;
        spec.validate(origin)?;
        Ok(spec)
    }

    /// Reads a scenario file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let io = |problem| Error::Io {
            path: path.to_owned(),
            problem,
        };
        let bytes =
            crate::files::read_bounded(path, crate::files::MAX_SCENARIO_FILE_BYTES).map_err(io)?;
        let text = String::from_utf8(bytes).map_err(|e| Error::Parse {
            origin: path.display().to_string(),
            message: format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        })?;
        Self::from_toml(&text, &path.display().to_string())
    }

    /// A built-in scenario by name, or a scenario file by path.
    pub fn load(name_or_path: &str) -> Result<Self> {
        if let Some(spec) = builtin(name_or_path) {
            return spec;
        }
        let path = Path::new(name_or_path);
        if name_or_path.ends_with(".toml") || path.exists() {
            return Self::from_file(path);
        }
        Err(Error::UnknownScenario {
            name: name_or_path.to_owned(),
            valid: BUILTINS
                .iter()
                .map(|(n, _)| *n)
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// The same scenario with its random traffic scaled so that the world holds about
    /// `actors` actors in all (used by the benchmark to show how cost grows).
    pub fn with_actor_count(&self, actors: usize) -> Self {
        let mut spec = self.clone();
        let fixed = spec.cars.len() + spec.parked.len() + spec.pedestrians.len();
        if let Some(t) = &mut spec.random_traffic {
            let random = (t.cars + t.pedestrians + t.parked).max(1) as f64;
            let wanted = actors.saturating_sub(fixed) as f64;
            let scale = wanted / random;
            let cars = (t.cars as f64 * scale).round() as i64;
            let pedestrians = (t.pedestrians as f64 * scale).round() as i64;
            t.cars = cars;
            t.pedestrians = pedestrians;
            t.parked = (wanted as i64 - cars - pedestrians).max(0);
        }
        spec
    }
}

/// A parser's message for a person: its lines cut to 160 characters and at most 12 of them, so
/// that an offending line of a megabyte is not echoed whole.
fn tidy(message: &str) -> String {
    let mut lines: Vec<String> = message
        .trim_end()
        .lines()
        .take(12)
        .map(|line| match line.char_indices().nth(160) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => line.to_owned(),
        })
        .collect();
    if message.trim_end().lines().count() > 12 {
        lines.push("…".to_owned());
    }
    lines.join("\n")
}

/// Built-in scenarios: name and file text.
pub const BUILTINS: [(&str, &str); 6] = [
    (
        "occluded_crossing",
        include_str!("../../../assets/scenarios/occluded_crossing.toml"),
    ),
    (
        "lead_brake",
        include_str!("../../../assets/scenarios/lead_brake.toml"),
    ),
    (
        "cut_in",
        include_str!("../../../assets/scenarios/cut_in.toml"),
    ),
    (
        "sensor_dropout",
        include_str!("../../../assets/scenarios/sensor_dropout.toml"),
    ),
    (
        "mixed_traffic",
        include_str!("../../../assets/scenarios/mixed_traffic.toml"),
    ),
    (
        "memory_gap",
        include_str!("../../../assets/scenarios/memory_gap.toml"),
    ),
];

/// The built-in scenario called `name`, if there is one.
pub fn builtin(name: &str) -> Option<Result<ScenarioSpec>> {
    BUILTINS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| ScenarioSpec::from_toml(text, &format!("built-in scenario {n}")))
}

/// Built-in scenarios that are experiments rather than driving: `memory_gap` measures how
/// long a controller remembers. The bundled weights were trained without them, and training
/// and the white-noise probe's frame pool leave them out, so that the documented training
/// commands still reproduce those files byte for byte.
pub const EXPERIMENTS: [&str; 1] = ["memory_gap"];

/// The built-in driving scenarios — every built-in but the `EXPERIMENTS` — parsed: what the
/// controllers are trained on. They are part of the program, so failing to parse one is a bug
/// caught by the tests, reported here as an error all the same.
pub fn builtins() -> Result<Vec<ScenarioSpec>> {
    BUILTINS
        .iter()
        .filter(|(n, _)| !EXPERIMENTS.contains(n))
        .map(|(n, text)| ScenarioSpec::from_toml(text, &format!("built-in scenario {n}")))
        .collect()
}

/// Every built-in scenario, experiments included, parsed.
pub fn all_builtins() -> Result<Vec<ScenarioSpec>> {
    BUILTINS
        .iter()
        .map(|(n, text)| ScenarioSpec::from_toml(text, &format!("built-in scenario {n}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_parses_and_validates() {
        let all = all_builtins().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(all.len(), 6);
        assert_eq!(builtins().map(|b| b.len()).ok(), Some(5));
        for (spec, (name, _)) in all.iter().zip(BUILTINS) {
            assert_eq!(spec.name, name);
        }
    }

    fn with(replace: &str, by: &str) -> String {
        let text = BUILTINS[0].1;
        assert!(text.contains(replace), "fixture lost `{replace}`");
        text.replacen(replace, by, 1)
    }

    #[test]
    fn bad_values_name_their_field() {
        let cases = [
            (with("lane_count = 2", "lane_count = -2"), "road.lane_count"),
            (
                with("length_m = 300.0", "length_m = 0.0"),
                "road.pieces[0].length_m",
            ),
            (with("lane = 0", "lane = 5"), "ego.lane"),
            (with("beams = 32", "beams = 0"), "lidar.beams"),
        ];
        for (text, field) in cases {
            let err = ScenarioSpec::from_toml(&text, "test.toml")
                .err()
                .map(|e| e.to_string());
            let err = err.unwrap_or_default();
            assert!(err.contains("test.toml") && err.contains(field), "{err}");
        }
    }

    #[test]
    fn a_value_that_cannot_be_a_param_names_its_field_and_line() {
        let text = with("pause_s = [0.8, 1.8]", "pause_s = [1.8, nan]");
        let err = ScenarioSpec::from_toml(&text, "p.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.starts_with("p.toml: field `pedestrians[0].pause_s` is not valid")
                && err.contains("line")
                && err.contains("must be a finite number, got NaN"),
            "{err}"
        );
    }

    #[test]
    fn unknown_fields_and_syntax_errors_are_reported_with_the_file() {
        let err = ScenarioSpec::from_toml(&with("[road]", "[road]\nlanes = 3"), "x.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("x.toml") && err.contains("unknown field `lanes`"),
            "{err}"
        );
        let err = ScenarioSpec::from_toml("name = ", "y.toml")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("y.toml") && err.contains("line 1"), "{err}");
    }

    #[test]
    fn unknown_names_list_the_builtins() {
        let err = ScenarioSpec::load("occluded")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            err.contains("occluded_crossing") && err.contains("mixed_traffic"),
            "{err}"
        );
    }
}
