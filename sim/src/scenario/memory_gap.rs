//! The memory gap experiment's part of a scenario: the hazard, where they may hide, the barrier
//! that holds the car while they are hidden, and how long.

use super::Param;
use serde::{Deserialize, Serialize};

/// A controlled memory gap: the ego waits at rest before a closed barrier (one gate arm per
/// lane, listed in `parked`), which lifts `gap_s` after a hazard pedestrian has passed out of
/// its sight on the way to their hiding place; so the hazard stays hidden for at least `gap_s` while the ego waits, at speed
/// 0 whatever it remembers. The lifting time follows from values drawn whether or not the
/// pedestrian is present, so a seed with the hazard and the same seed without it differ in
/// nothing else.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemoryGapSpec {
    /// Seconds from the hazard passing out of the waiting car's sight (`hidden_from_d_m`) to
    /// the barrier lifting; a range `[low, high]` draws it per seed (for training on many gaps).
    pub gap_s: Param,
    /// Offset across the road (m) on the hazard's walk to their hiding place from which the van
    /// hides them from the waiting car; the gap is counted from there. Left out: from the
    /// hiding place itself, which counts the last part of the walk, already hidden, as
    /// remembered too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden_from_d_m: Option<f64>,
    /// Places along the road where the hazard may hide, one drawn per seed whether or not they
    /// are present (so a driver that does not remember must be careful at every one). Left
    /// out: the pedestrian's own `s_m` and `hidden_from_d_m`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hiding: Vec<HidingPlace>,
    /// Index in `pedestrians` of the hazard; they must start by time alone and pause at
    /// `pause_at_d_m`.
    pub pedestrian: i64,
    /// Indices in `parked` of the barrier's gate arms, removed when it lifts.
    pub barrier: Vec<i64>,
    /// If given, the hazard also steps out this long after the barrier lifts (s), wherever the
    /// car is: a car that waits at the barrier meets them in view after it, while one that
    /// goes on at once still meets them darting out at their hiding place. Left out: they step
    /// out only for the car (`step_out_when_ego_within_s`, `step_out_when_ego_stopped_within_m`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_out_after_lift_s: Option<f64>,
    /// How far past the last place the hazard may hide the car is timed, in seeds without
    /// them (m): far enough that a driver careful at a van pays for getting back up to speed
    /// too, not only for slowing down. Left out: 0, at the last hiding place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judged_past_m: Option<f64>,
}

/// One place where a memory gap's hazard may hide.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HidingPlace {
    /// Where they stand, along the road (m): the pedestrian's `s_m` when this place is drawn.
    pub s_m: f64,
    /// Offset across the road (m) on their walk from which the waiting car can no longer see
    /// them on the way to this place; the gap is counted from there.
    pub hidden_from_d_m: f64,
}
