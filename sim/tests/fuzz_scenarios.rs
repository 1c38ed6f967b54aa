//! Fuzzing the one scenario validator: specs with every optional field present, one to four of
//! their numbers replaced by values from the whole space (reversed, non-finite, huge, zero,
//! negative, of the wrong type). Each must be either a typed error that names the file and the
//! field or line, or a world that steps with finite numbers within its bounded length. A panic
//! anywhere fails the property.

use memdrive_sim::scenario::{ScenarioSpec, limits};
use memdrive_sim::world::DT_SECS;
use memdrive_sim::{Controller, Expert, Privileged, World};
use proptest::prelude::*;
use toml::Value;

/// Every section and optional field there is, with plausible values.
const MAXIMAL: &str = r#"
name = "maximal"
description = "every optional field"
duration_s = 30.0

[road]
lane_count = 2
lane_width_m = 3.5
verge_m = 8.0
pieces = [
    { length_m = 150.0 },
    { length_m = 100.0, curvature_per_m = [-0.01, 0.01] },
    { length_m = 150.0 },
]

[ego]
lane = 0
start_s_m = [0.0, 10.0]
speed_mps = [8.0, 9.0]
cruise_speed_mps = [9.0, 10.0]
goal_s_m = 300.0

[lidar]
beams = 32
range_m = 60.0

[faults]
noise_std_m = [0.0, 0.1]
dropouts = [{ start_s = [2.0, 4.0], duration_s = [0.5, 1.0] }]

[[cars]]
probability = 0.9
lane = 1
s_m = [30.0, 40.0]
speed_mps = [8.0, 9.0]
desired_speed_mps = [9.0, 10.0]
length_m = 4.5
brake = { at_time_s = [3.0, 5.0], after_dropout_start_s = [0.0, 0.3], decel_mps2 = [4.0, 6.0], to_speed_mps = [0.0, 2.0], hold_s = [1.0, 2.0] }
lane_change = { to_lane = 0, at_time_s = [1.0, 2.0], when_ahead_of_ego_within_m = [10.0, 14.0], duration_s = [2.0, 3.0] }

[[parked]]
probability = 0.8
s_m = 90.0
d_m = -4.9
length_m = [8.0, 9.0]
width_m = 2.5

[[pedestrians]]
probability = 0.7
turn_back_probability = 0.3
s_m = [100.2, 100.8]
from_d_m = [5.0, 7.0]
to_d_m = -6.0
speed_mps = [1.2, 1.6]
step_out_speed_mps = [2.2, 2.8]
start_time_s = [0.0, 1.0]
start_when_ego_within_m = [70.0, 85.0]
pause_at_d_m = -3.95
pause_s = [0.8, 1.8]
step_out_when_ego_within_s = 0.5
patience_s = 0.4
turn_back_at_d_m = [0.5, 2.5]

[random_traffic]
cars = 4
pedestrians = 2
parked = 2
car_speed_mps = [9.0, 12.0]
blocking_share = 0.3
pedestrian_speed_mps = [1.1, 1.6]
pedestrian_start_s = [0.0, 20.0]
"#;

/// Paths (keys and array indices) of every number or two-number range in `value`.
fn numeric_paths(value: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match value {
        Value::Integer(_) | Value::Float(_) => out.push(path.clone()),
        Value::Array(items) if items.len() == 2 && items.iter().all(is_number) => {
            out.push(path.clone());
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                numeric_paths(item, path, out);
                path.pop();
            }
        }
        Value::Table(table) => {
            for (k, item) in table {
                path.push(Step::Key(k.clone()));
                numeric_paths(item, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn is_number(v: &Value) -> bool {
    matches!(v, Value::Integer(_) | Value::Float(_))
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn at<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match (step, v) {
        (Step::Key(k), Value::Table(t)) => t.get_mut(k).unwrap_or_else(|| panic!("no {k}")),
        (Step::Index(i), Value::Array(a)) => &mut a[*i],
        (step, v) => panic!("{step:?} does not fit {v:?}"),
    })
}

/// Numbers from the whole space, the troublesome ones often.
fn any_number() -> impl Strategy<Value = f64> {
    prop_oneof![
        prop::sample::select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            -1.0,
            1e308,
            -1e308,
            f64::MAX,
            f64::MIN_POSITIVE,
            1e7,
            1e12,
            36_001.0,
        ]),
        -1e4f64..1e4,
        -50.0f64..50.0,
        any::<f64>(),
    ]
}

/// What replaces a number: a number, a range (in order or reversed), an integer, a string.
fn any_replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        any_number().prop_map(Value::Float),
        (any_number(), any_number())
            .prop_map(|(a, b)| Value::Array(vec![Value::Float(a), Value::Float(b)])),
        prop::sample::select(vec![i64::MIN, -1, 0, 1, 3, 2_000, 1_000_000_000, i64::MAX])
            .prop_map(Value::Integer),
        Just(Value::String("7".into())),
        Just(Value::Array(vec![Value::Float(1.0)])),
    ]
}

/// The value at a path scaled by a factor: plausible specs, so that many cases get to run.
fn scaled(value: &Value, factor: f64) -> Value {
    match value {
        Value::Float(f) => Value::Float(f * factor),
        Value::Integer(i) => Value::Integer((*i as f64 * factor).round() as i64),
        Value::Array(items) => Value::Array(items.iter().map(|v| scaled(v, factor)).collect()),
        other => other.clone(),
    }
}

/// Either a value from anywhere or the present value scaled.
#[derive(Clone, Debug)]
enum Change {
    Replace(Value),
    Scale(f64),
}

fn any_change() -> impl Strategy<Value = Change> {
    prop_oneof![
        any_replacement().prop_map(Change::Replace),
        (0.0f64..3.0).prop_map(Change::Scale),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_spec_is_a_named_error_or_a_world_that_runs_finitely(
        picks in prop::collection::vec((any::<prop::sample::Index>(), any_change()), 1..5),
        seed in 0u64..1000,
    ) {
        let mut value: Value = toml::from_str(MAXIMAL).unwrap_or_else(|e| panic!("{e}"));
        let mut paths = Vec::new();
        numeric_paths(&value, &mut Vec::new(), &mut paths);
        for (index, change) in picks {
            let slot = at(&mut value, &paths[index.index(paths.len())]);
            *slot = match change {
                Change::Replace(v) => v,
                Change::Scale(f) => scaled(slot, f),
            };
        }
        let text = toml::to_string(&value).unwrap_or_else(|e| panic!("{e}"));
        match ScenarioSpec::from_toml(&text, "fuzz.toml") {
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.starts_with("fuzz.toml: "), "{message}");
                prop_assert!(message.contains("field `") || message.contains("line"), "{message}");
            }
            Ok(spec) => {
                let mut world = World::new(&spec, seed);
                prop_assert!(f64::from(world.max_steps()) * DT_SECS <= limits::MAX_DURATION_S + 1e-9);
                prop_assert!(world.actors().len() <= limits::MAX_ACTORS);
                let mut expert = Expert::new();
                expert.reset();
                while world.outcome().is_none() && world.steps() < 150 {
                    let controls = expert.act_in(&world);
                    world.step(controls);
                    let ego = world.ego();
                    prop_assert!(ego.pose.pos_in_world.x.is_finite() && ego.pose.pos_in_world.y.is_finite());
                    prop_assert!(ego.speed_mps.is_finite());
                    for actor in world.actors() {
                        prop_assert!(actor.s_m.is_finite() && actor.d_m.is_finite() && actor.speed_mps.is_finite(), "{actor:?}");
                    }
                    prop_assert!(world.observation().values().iter().all(|v| v.is_finite()));
                }
                let m = world.metrics();
                prop_assert!(m.progress_m.is_finite() && m.mean_speed_mps.is_finite() && m.mean_abs_jerk_mps3.is_finite());
            }
        }
    }
}

#[test]
fn the_maximal_spec_itself_is_valid() {
    let spec = ScenarioSpec::from_toml(MAXIMAL, "maximal.toml");
    assert!(spec.is_ok(), "{spec:?}");
}
