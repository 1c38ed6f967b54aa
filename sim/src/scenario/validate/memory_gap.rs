//! The memory gap's checks: its hazard is a pedestrian who starts by time and pauses, its
//! hiding places lie on their walk, its gate arms are parked vehicles named once, and the
//! barrier lifts with time left to drive past.

use super::{Context, Validator};
use crate::Result;
use crate::scenario::{MemoryGapSpec, Param, ScenarioSpec, compact};

impl MemoryGapSpec {
    pub(super) fn validate(
        &self,
        v: &Validator<'_>,
        spec: &ScenarioSpec,
        ctx: &Context,
    ) -> Result<()> {
        v.param(
            "memory_gap.gap_s",
            self.gap_s,
            0.0,
            spec.duration_s,
            " s (within the episode)",
        )?;
        if spec.pedestrians.is_empty() {
            return Err(v.invalid(
                "memory_gap.pedestrian",
                format!(
                    "names pedestrian {}, but the scenario has no pedestrians",
                    self.pedestrian
                ),
            ));
        }
        v.count(
            "memory_gap.pedestrian",
            self.pedestrian,
            0,
            spec.pedestrians.len() as i64 - 1,
        )?;
        let p = &spec.pedestrians[self.pedestrian as usize];
        if p.pause_at_d_m.is_none() || p.start_when_ego_within_m.is_some() {
            return Err(v.invalid(
                "memory_gap.pedestrian",
                "must name a pedestrian who starts by time alone and pauses (pause_at_d_m)".into(),
            ));
        }
        // Between every start and every pause point the pedestrian can draw.
        let on_the_walk = |field: &str, h: f64| -> Result<()> {
            let Some(pause) = p.pause_at_d_m else {
                return Ok(());
            };
            let (lo, hi) = if p.from_d_m.max() <= pause.min() {
                (p.from_d_m.max(), pause.min())
            } else if pause.max() <= p.from_d_m.min() {
                (pause.max(), p.from_d_m.min())
            } else {
                (f64::NAN, f64::NAN)
            };
            if h.is_finite() && h >= lo && h <= hi {
                return Ok(());
            }
            Err(v.invalid(
                field,
                format!(
                    "must lie on the pedestrian's walk from from_d_m ({}) to pause_at_d_m ({}), got {}",
                    p.from_d_m,
                    pause,
                    compact(h)
                ),
            ))
        };
        if let Some(h) = self.hidden_from_d_m {
            if !self.hiding.is_empty() {
                return Err(v.invalid(
                    "memory_gap.hidden_from_d_m",
                    "give it per place in memory_gap.hiding instead".into(),
                ));
            }
            on_the_walk("memory_gap.hidden_from_d_m", h)?;
        }
        for (i, place) in self.hiding.iter().enumerate() {
            v.number(
                &format!("memory_gap.hiding[{i}].s_m"),
                place.s_m,
                0.0,
                ctx.max_length_m,
                " m (along the road)",
            )?;
            on_the_walk(
                &format!("memory_gap.hiding[{i}].hidden_from_d_m"),
                place.hidden_from_d_m,
            )?;
        }
        // The barrier must lift early enough to drive past: at the latest hiding time plus the
        // longest gap, with 10 s of the episode left.
        let walk_m = (p.pause_at_d_m.map_or(0.0, Param::max) - p.from_d_m.min())
            .abs()
            .max((p.pause_at_d_m.map_or(0.0, Param::min) - p.from_d_m.max()).abs());
        let hidden_by_s = p.start_time_s.max() + walk_m / p.speed_mps.min();
        if hidden_by_s + self.gap_s.max() + 10.0 > spec.duration_s {
            return Err(v.invalid(
                "memory_gap.gap_s",
                format!(
                    "{} is too long: the pedestrian hides by {} s, and the barrier must lift with 10 s of the {} s episode left",
                    self.gap_s,
                    compact((hidden_by_s * 10.0).round() / 10.0),
                    compact(spec.duration_s)
                ),
            ));
        }
        if let Some(after) = self.step_out_after_lift_s {
            v.number(
                "memory_gap.step_out_after_lift_s",
                after,
                0.0,
                spec.duration_s,
                " s (within the episode)",
            )?;
        }
        if let Some(past) = self.judged_past_m {
            let last = self
                .hiding
                .iter()
                .map(|h| h.s_m)
                .fold(p.s_m.max(), f64::max);
            v.number(
                "memory_gap.judged_past_m",
                past,
                0.0,
                (spec.ego.goal_s_m.min() - last).max(0.0),
                " m (past the last hiding place, short of the goal)",
            )?;
        }
        if self.barrier.is_empty() || spec.parked.is_empty() {
            return Err(v.invalid(
                "memory_gap.barrier",
                "must name the barrier's gate arms in `parked`".into(),
            ));
        }
        for (i, &arm) in self.barrier.iter().enumerate() {
            let field = format!("memory_gap.barrier[{i}]");
            v.count(&field, arm, 0, spec.parked.len() as i64 - 1)?;
            if self.barrier[..i].contains(&arm) {
                return Err(v.invalid(&field, format!("names parked vehicle {arm} twice")));
            }
        }
        Ok(())
    }
}
