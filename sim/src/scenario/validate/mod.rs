//! The one validator of scenario specs: every field, present or optional, against documented
//! bounds, so that a spec that passes can be sampled and simulated without a panic and within
//! bounded work (`limits`). Each sub-spec checks itself; errors name the field by its dotted
//! path, say what was expected and print the number compactly.

use super::{
    CarSpec, EgoSpec, FaultSpec, LidarSpec, Param, ParkedSpec, PedestrianSpec, RandomTrafficSpec,
    RoadSpec, ScenarioSpec, compact,
};
use crate::{Error, Result};

mod memory_gap;

/// Upper bounds on everything in a scenario that sizes work or memory, and the physical limits
/// every actor obeys. Documented in the README ("Reliability").
pub mod limits {
    /// Longest episode (s): 36,000 control steps.
    pub const MAX_DURATION_S: f64 = 3600.0;
    /// Most centreline pieces.
    pub const MAX_PIECES: usize = 100;
    /// Longest road, all pieces at their longest (m).
    pub const MAX_ROAD_LENGTH_M: f64 = 20_000.0;
    /// Most wall segments (both sides): every step's lidar looks at them, and a curve needs
    /// one per 0.05 rad of turn.
    pub const MAX_WALL_SEGMENTS: usize = 4_000;
    /// Most actors of every kind together, fixed and random.
    pub const MAX_ACTORS: usize = 1_000;
    /// Most sensor dropout windows.
    pub const MAX_DROPOUTS: usize = 100;
    /// Lidar beams.
    pub const MAX_BEAMS: i64 = 1024;
    /// How far beyond either end of the road an actor may start (m).
    pub const ROAD_MARGIN_M: f64 = 1_000.0;
    /// Top speed of any car, the ego's included (m/s).
    pub const MAX_CAR_SPEED_MPS: f64 = 30.0;
    /// Strongest braking of any car, the ego's included (m/s²).
    pub const MAX_CAR_DECEL_MPS2: f64 = 8.0;
    /// Fastest pedestrian (m/s): a sprinter.
    pub const MAX_PEDESTRIAN_SPEED_MPS: f64 = 10.0;
    /// Tightest curve (m): the car turns on a 4 m radius at full lock; a road needs room.
    pub const MIN_CURVE_RADIUS_M: f64 = 6.0;
    /// Longest scenario name; names and descriptions hold no control characters.
    pub const MAX_NAME_CHARS: usize = 64;
    /// Longest description.
    pub const MAX_DESCRIPTION_CHARS: usize = 500;
}

use limits::*;

use crate::road::WALL_SEGMENT_MAX_TURN_RAD as WALL_SEGMENT_TURN_RAD;

struct Validator<'a> {
    origin: &'a str,
}

/// What sub-specs need to know of the whole.
struct Context {
    lanes: i64,
    /// Shortest length the road can have (m).
    min_length_m: f64,
    /// Longest length the road can have (m).
    max_length_m: f64,
    /// Distance from the centreline to each wall (m).
    outer_d_m: f64,
    duration_s: f64,
    has_dropouts: bool,
}

impl Validator<'_> {
    fn invalid(&self, field: &str, message: String) -> Error {
        Error::Invalid {
            origin: self.origin.to_owned(),
            field: field.to_owned(),
            message,
        }
    }

    /// A plain number within `[low, high]`.
    fn number(&self, field: &str, value: f64, low: f64, high: f64, unit: &str) -> Result<()> {
        if value.is_finite() && value >= low && value <= high {
            return Ok(());
        }
        Err(self.invalid(
            field,
            format!(
                "must be between {} and {}{unit}, got {}",
                compact(low),
                compact(high),
                compact(value)
            ),
        ))
    }

    /// Every value a `Param` can take within `[low, high]`.
    fn param(&self, field: &str, p: Param, low: f64, high: f64, unit: &str) -> Result<()> {
        if p.min() >= low && p.max() <= high {
            return Ok(());
        }
        Err(self.invalid(
            field,
            format!(
                "must be between {} and {}{unit}, got {p}",
                compact(low),
                compact(high)
            ),
        ))
    }

    fn count(&self, field: &str, value: i64, low: i64, high: i64) -> Result<()> {
        if (low..=high).contains(&value) {
            return Ok(());
        }
        Err(self.invalid(
            field,
            format!("must be between {low} and {high}, got {value}"),
        ))
    }

    fn probability(&self, field: &str, p: f64) -> Result<()> {
        self.number(field, p, 0.0, 1.0, " (a probability)")
    }

    fn lane(&self, field: &str, lane: i64, ctx: &Context) -> Result<()> {
        if (0..ctx.lanes).contains(&lane) {
            return Ok(());
        }
        Err(self.invalid(
            field,
            format!("must be a lane of the road (0..{}), got {lane}", ctx.lanes),
        ))
    }

    fn along(&self, field: &str, p: Param, ctx: &Context) -> Result<()> {
        self.param(
            field,
            p,
            -ROAD_MARGIN_M,
            ctx.max_length_m + ROAD_MARGIN_M,
            " m (the road and 1 km beyond either end)",
        )
    }

    fn across(&self, field: &str, p: Param, ctx: &Context) -> Result<()> {
        self.param(
            field,
            p,
            -ctx.outer_d_m,
            ctx.outer_d_m,
            " m (between the walls)",
        )
    }

    fn time(&self, field: &str, p: Param, ctx: &Context) -> Result<()> {
        self.param(field, p, 0.0, ctx.duration_s, " s (within the episode)")
    }
}

impl ScenarioSpec {
    /// Checks every value a file can get wrong, naming the field. A spec that passes samples and
    /// runs without a panic, within the bounds of `limits`.
    pub fn validate(&self, origin: &str) -> Result<()> {
        let v = Validator { origin };
        for (field, text, most) in [
            ("name", &self.name, MAX_NAME_CHARS),
            ("description", &self.description, MAX_DESCRIPTION_CHARS),
        ] {
            let chars = text.chars().count();
            if (field == "name" && chars == 0) || chars > most {
                return Err(v.invalid(
                    field,
                    format!("must be 1 to {most} characters, got {chars}"),
                ));
            }
            if text.chars().any(char::is_control) {
                return Err(v.invalid(field, "must not hold control characters".into()));
            }
        }
        v.number("duration_s", self.duration_s, 0.1, MAX_DURATION_S, " s")?;
        let mut ctx = self.road.validate(&v)?;
        ctx.duration_s = self.duration_s;
        ctx.has_dropouts = !self.faults.dropouts.is_empty();
        self.ego.validate(&v, &ctx)?;
        self.lidar.validate(&v)?;
        self.faults.validate(&v, &ctx)?;
        for (i, c) in self.cars.iter().enumerate() {
            c.validate(&v, &format!("cars[{i}]"), &ctx)?;
        }
        for (i, p) in self.parked.iter().enumerate() {
            p.validate(&v, &format!("parked[{i}]"), &ctx)?;
        }
        for (i, p) in self.pedestrians.iter().enumerate() {
            p.validate(&v, &format!("pedestrians[{i}]"), &ctx)?;
        }
        if let Some(g) = &self.memory_gap {
            g.validate(&v, self, &ctx)?;
        }
        let mut actors = self.cars.len() + self.parked.len() + self.pedestrians.len();
        if let Some(t) = &self.random_traffic {
            t.validate(&v, &ctx)?;
            actors += (t.cars + t.pedestrians + t.parked) as usize;
        }
        if actors > MAX_ACTORS {
            return Err(v.invalid(
                "random_traffic",
                format!("and the listed actors make {actors} actors, more than {MAX_ACTORS}"),
            ));
        }
        Ok(())
    }
}

impl RoadSpec {
    fn validate(&self, v: &Validator<'_>) -> Result<Context> {
        v.count("road.lane_count", self.lane_count, 1, 8)?;
        v.number("road.lane_width_m", self.lane_width_m, 2.0, 6.0, " m")?;
        v.number("road.verge_m", self.verge_m, 0.0, 50.0, " m")?;
        if self.pieces.is_empty() || self.pieces.len() > MAX_PIECES {
            return Err(v.invalid(
                "road.pieces",
                format!(
                    "must hold 1 to {MAX_PIECES} pieces, got {}",
                    self.pieces.len()
                ),
            ));
        }
        let outer_d_m = 0.5 * self.lane_width_m * self.lane_count as f64 + self.verge_m;
        // Tighter than the street is wide, or than the car can turn, is no road.
        let max_curvature = (1.0 / (outer_d_m + 1.0)).min(1.0 / MIN_CURVE_RADIUS_M);
        let (mut min_length_m, mut max_length_m, mut segments) = (0.0, 0.0, 0usize);
        for (i, p) in self.pieces.iter().enumerate() {
            let field = format!("road.pieces[{i}]");
            v.param(
                &format!("{field}.length_m"),
                p.length_m,
                1.0,
                MAX_ROAD_LENGTH_M,
                " m",
            )?;
            let curvature = format!("{field}.curvature_per_m");
            if p.curvature_per_m.min() < -max_curvature || p.curvature_per_m.max() > max_curvature {
                return Err(v.invalid(
                    &curvature,
                    format!(
                        "turns tighter than the street is wide or the car can steer (radius at least {:.1} m, so |curvature| at most {:.4}), got {}",
                        1.0 / max_curvature,
                        max_curvature,
                        p.curvature_per_m
                    ),
                ));
            }
            min_length_m += p.length_m.min();
            max_length_m += p.length_m.max();
            let k = p
                .curvature_per_m
                .min()
                .abs()
                .max(p.curvature_per_m.max().abs());
            let turn = k * p.length_m.max() / WALL_SEGMENT_TURN_RAD;
            segments += 2 * (turn.ceil().max(1.0) as usize);
        }
        if max_length_m > MAX_ROAD_LENGTH_M {
            return Err(v.invalid(
                "road.pieces",
                format!(
                    "add up to {} m, more than {} m",
                    compact(max_length_m),
                    compact(MAX_ROAD_LENGTH_M)
                ),
            ));
        }
        if segments > MAX_WALL_SEGMENTS {
            return Err(v.invalid(
                "road.pieces",
                format!(
                    "turn so much that the walls need {segments} segments (one per 0.05 rad of turn), more than {MAX_WALL_SEGMENTS}"
                ),
            ));
        }
        Ok(Context {
            lanes: self.lane_count,
            min_length_m,
            max_length_m,
            outer_d_m,
            duration_s: 0.0,
            has_dropouts: false,
        })
    }
}

impl EgoSpec {
    fn validate(&self, v: &Validator<'_>, ctx: &Context) -> Result<()> {
        v.lane("ego.lane", self.lane, ctx)?;
        let on_road = |field, p| v.param(field, p, 0.0, ctx.min_length_m, " m (on the road)");
        on_road("ego.start_s_m", self.start_s_m)?;
        on_road("ego.goal_s_m", self.goal_s_m)?;
        v.param(
            "ego.speed_mps",
            self.speed_mps,
            0.0,
            MAX_CAR_SPEED_MPS,
            " m/s",
        )?;
        v.param(
            "ego.cruise_speed_mps",
            self.cruise_speed_mps,
            0.5,
            MAX_CAR_SPEED_MPS,
            " m/s",
        )?;
        if let Some(a) = self.max_accel_mps2 {
            v.number("ego.max_accel_mps2", a, 0.5, 10.0, " m/s²")?;
        }
        if self.goal_s_m.min() <= self.start_s_m.max() {
            return Err(v.invalid(
                "ego.goal_s_m",
                format!(
                    "must lie beyond ego.start_s_m ({}), got {}",
                    self.start_s_m, self.goal_s_m
                ),
            ));
        }
        Ok(())
    }
}

impl LidarSpec {
    fn validate(&self, v: &Validator<'_>) -> Result<()> {
        v.count("lidar.beams", self.beams, 4, MAX_BEAMS)?;
        v.number("lidar.range_m", self.range_m, 1.0, 500.0, " m")
    }
}

impl FaultSpec {
    fn validate(&self, v: &Validator<'_>, ctx: &Context) -> Result<()> {
        v.param("faults.noise_std_m", self.noise_std_m, 0.0, 10.0, " m")?;
        if self.dropouts.len() > MAX_DROPOUTS {
            return Err(v.invalid(
                "faults.dropouts",
                format!(
                    "must hold at most {MAX_DROPOUTS} windows, got {}",
                    self.dropouts.len()
                ),
            ));
        }
        for (i, d) in self.dropouts.iter().enumerate() {
            v.time(&format!("faults.dropouts[{i}].start_s"), d.start_s, ctx)?;
            v.time(
                &format!("faults.dropouts[{i}].duration_s"),
                d.duration_s,
                ctx,
            )?;
        }
        Ok(())
    }
}

impl CarSpec {
    fn validate(&self, v: &Validator<'_>, at: &str, ctx: &Context) -> Result<()> {
        let f = |name: &str| format!("{at}.{name}");
        let speed = |field: &str, p, low| v.param(&f(field), p, low, MAX_CAR_SPEED_MPS, " m/s");
        v.probability(&f("probability"), self.probability)?;
        v.lane(&f("lane"), self.lane, ctx)?;
        v.along(&f("s_m"), self.s_m, ctx)?;
        speed("speed_mps", self.speed_mps, 0.0)?;
        speed("desired_speed_mps", self.desired_speed_mps, 0.1)?;
        v.number(&f("length_m"), self.length_m, 1.0, 25.0, " m")?;
        if let Some(b) = &self.brake {
            v.time(&f("brake.at_time_s"), b.at_time_s, ctx)?;
            if let Some(p) = b.after_dropout_start_s {
                v.time(&f("brake.after_dropout_start_s"), p, ctx)?;
                if !ctx.has_dropouts {
                    return Err(v.invalid(
                        &f("brake.after_dropout_start_s"),
                        "needs a faults.dropouts window".into(),
                    ));
                }
            }
            v.param(
                &f("brake.decel_mps2"),
                b.decel_mps2,
                0.1,
                MAX_CAR_DECEL_MPS2,
                " m/s² (the ego's strongest braking)",
            )?;
            speed("brake.to_speed_mps", b.to_speed_mps, 0.0)?;
            v.time(&f("brake.hold_s"), b.hold_s, ctx)?;
        }
        if let Some(l) = &self.lane_change {
            v.lane(&f("lane_change.to_lane"), l.to_lane, ctx)?;
            v.time(&f("lane_change.at_time_s"), l.at_time_s, ctx)?;
            if let Some(p) = l.when_ahead_of_ego_within_m {
                v.param(
                    &f("lane_change.when_ahead_of_ego_within_m"),
                    p,
                    0.0,
                    ROAD_MARGIN_M,
                    " m",
                )?;
            }
            v.param(&f("lane_change.duration_s"), l.duration_s, 0.1, 60.0, " s")?;
        }
        Ok(())
    }
}

impl ParkedSpec {
    fn validate(&self, v: &Validator<'_>, at: &str, ctx: &Context) -> Result<()> {
        let f = |name: &str| format!("{at}.{name}");
        v.probability(&f("probability"), self.probability)?;
        v.along(&f("s_m"), self.s_m, ctx)?;
        v.across(&f("d_m"), self.d_m, ctx)?;
        v.param(&f("length_m"), self.length_m, 1.0, 25.0, " m")?;
        v.param(&f("width_m"), self.width_m, 1.0, 5.0, " m")
    }
}

impl PedestrianSpec {
    fn validate(&self, v: &Validator<'_>, at: &str, ctx: &Context) -> Result<()> {
        let f = |name: &str| format!("{at}.{name}");
        let speed = |field: &str, p| v.param(&f(field), p, 0.1, MAX_PEDESTRIAN_SPEED_MPS, " m/s");
        v.probability(&f("probability"), self.probability)?;
        v.probability(&f("turn_back_probability"), self.turn_back_probability)?;
        v.along(&f("s_m"), self.s_m, ctx)?;
        v.across(&f("from_d_m"), self.from_d_m, ctx)?;
        v.across(&f("to_d_m"), self.to_d_m, ctx)?;
        speed("speed_mps", self.speed_mps)?;
        if let Some(p) = self.step_out_speed_mps {
            speed("step_out_speed_mps", p)?;
        }
        v.time(&f("start_time_s"), self.start_time_s, ctx)?;
        if let Some(p) = self.start_when_ego_within_m {
            v.param(&f("start_when_ego_within_m"), p, 0.0, ROAD_MARGIN_M, " m")?;
        }
        if let Some(p) = self.pause_at_d_m {
            v.across(&f("pause_at_d_m"), p, ctx)?;
        }
        v.time(&f("pause_s"), self.pause_s, ctx)?;
        if let Some(p) = self.step_out_when_ego_within_s {
            v.time(&f("step_out_when_ego_within_s"), p, ctx)?;
        }
        if let Some(m) = self.step_out_when_ego_within_m {
            v.number(
                &f("step_out_when_ego_within_m"),
                m,
                0.0,
                ctx.max_length_m,
                " m (along the road)",
            )?;
        }
        if let Some(m) = self.step_out_when_ego_stopped_within_m {
            v.number(
                &f("step_out_when_ego_stopped_within_m"),
                m,
                0.0,
                ctx.max_length_m,
                " m (along the road)",
            )?;
        }
        v.number(
            &f("patience_s"),
            self.patience_s,
            0.0,
            ctx.duration_s,
            " s (within the episode)",
        )?;
        v.time(&f("linger_s"), self.linger_s, ctx)?;
        if let Some(p) = self.then_to_d_m {
            v.across(&f("then_to_d_m"), p, ctx)?;
        }
        match self.turn_back_at_d_m {
            Some(p) => v.across(&f("turn_back_at_d_m"), p, ctx)?,
            None if self.turn_back_probability > 0.0 => {
                return Err(v.invalid(
                    &f("turn_back_at_d_m"),
                    "is required when turn_back_probability > 0".into(),
                ));
            }
            None => {}
        }
        Ok(())
    }
}

impl RandomTrafficSpec {
    fn validate(&self, v: &Validator<'_>, ctx: &Context) -> Result<()> {
        let most = MAX_ACTORS as i64;
        v.count("random_traffic.cars", self.cars, 0, most)?;
        v.count("random_traffic.pedestrians", self.pedestrians, 0, most)?;
        v.count("random_traffic.parked", self.parked, 0, most)?;
        v.param(
            "random_traffic.car_speed_mps",
            self.car_speed_mps,
            0.1,
            MAX_CAR_SPEED_MPS,
            " m/s",
        )?;
        v.probability("random_traffic.blocking_share", self.blocking_share)?;
        v.param(
            "random_traffic.pedestrian_speed_mps",
            self.pedestrian_speed_mps,
            0.1,
            MAX_PEDESTRIAN_SPEED_MPS,
            " m/s",
        )?;
        v.time(
            "random_traffic.pedestrian_start_s",
            self.pedestrian_start_s,
            ctx,
        )
    }
}
