//! What a collision was: the kind of actor hit, and what the car's sensors knew of it — so that
//! a crash tells whether memory failed (the actor was seen, then forgotten) or driving did (it
//! was in view all along).

use super::{DT_SECS, Visibility};
use crate::actors::{Actor, ActorKind};
use serde::Serialize;

/// How recently a beam must have reported the actor hit for it to count as in view (s).
pub const IN_VIEW_WINDOW_S: f64 = 1.0;

/// The kind of actor a collision was with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Victim {
    /// A pedestrian.
    Pedestrian,
    /// A traffic car (driving, slowing or stopped in its lane).
    MovingCar,
    /// A parked vehicle.
    ParkedVehicle,
}

/// What the car's sensors knew of the actor it hit.
///
/// A pedestrian who walks behind a truck and steps out half a second before the car arrives
/// is reported by a beam just before impact, yet the crash is a failure of memory: the car saw
/// them earlier and had no second of sight to react to. So "in view" asks for a sighting that
/// began at least `IN_VIEW_WINDOW_S` before impact and lasted to within that window of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Knowledge {
    /// Reported during the last second before impact, by a sighting at least a second long:
    /// the car had it in view and time to react — a failure of driving.
    InView,
    /// Seen earlier, then hidden: not reported in the last second, or back in view for less
    /// than a second — a failure of memory.
    Forgotten,
    /// Never seen before the last second: nothing to remember, no time to react.
    NeverSeen,
}

impl Victim {
    /// The name used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pedestrian => "pedestrian",
            Self::MovingCar => "moving_car",
            Self::ParkedVehicle => "parked_vehicle",
        }
    }

    /// Every kind, in table order.
    pub const ALL: [Self; 3] = [Self::Pedestrian, Self::MovingCar, Self::ParkedVehicle];
}

impl Knowledge {
    /// The name used in tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InView => "in_view",
            Self::Forgotten => "forgotten",
            Self::NeverSeen => "never_seen",
        }
    }

    /// Words for a person: "in view", "forgotten", "never seen".
    pub fn label(self) -> &'static str {
        match self {
            Self::InView => "in view",
            Self::Forgotten => "forgotten",
            Self::NeverSeen => "never seen",
        }
    }
}

/// One collision, classified.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Collision {
    /// Index of the actor hit.
    pub actor: usize,
    /// Its kind.
    pub victim: Victim,
    /// What the sensors knew of it.
    pub knowledge: Knowledge,
    /// Seconds between the last beam that reported it and the impact; `None` if never seen.
    pub last_seen_s_before: Option<f64>,
}

/// The collision of this step, if the ego's body overlaps an active actor; `step` is the step
/// of impact and `visibility` what the sensors had reported before it.
pub(super) fn classify(
    overlapping: Option<&Actor>,
    visibility: &[Visibility],
    step: u32,
) -> Option<Collision> {
    let actor = overlapping?;
    let victim = match actor.kind {
        ActorKind::Pedestrian => Victim::Pedestrian,
        ActorKind::Car => Victim::MovingCar,
        ActorKind::Parked => Victim::ParkedVehicle,
    };
    let seen = &visibility[actor.id];
    let ago = |s: u32| f64::from(step.saturating_sub(s)) * DT_SECS;
    let last_seen_s_before = seen.last_seen_step.map(ago);
    let window = IN_VIEW_WINDOW_S + 1e-9;
    let knowledge = match (last_seen_s_before, seen.sighting_start_step.map(ago)) {
        (None, _) => Knowledge::NeverSeen,
        (Some(last), _) if last > window => Knowledge::Forgotten,
        (Some(_), Some(sighting)) if sighting >= IN_VIEW_WINDOW_S - 1e-9 => Knowledge::InView,
        _ if seen.seen_before => Knowledge::Forgotten,
        _ => Knowledge::NeverSeen,
    };
    Some(Collision {
        actor: actor.id,
        victim,
        knowledge,
        last_seen_s_before,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actors::Behaviour;
    use crate::geometry::{OrientedBox, Pose};

    fn pedestrian() -> Actor {
        Actor {
            id: 0,
            kind: ActorKind::Pedestrian,
            length_m: 0.5,
            width_m: 0.5,
            s_m: 0.0,
            d_m: 0.0,
            speed_mps: 0.0,
            lateral_mps: 0.0,
            body: OrientedBox::new(Pose::default(), 0.5, 0.5),
            active: true,
            behaviour: Behaviour::Parked,
            posed_from: [0.0; 3],
        }
    }

    /// The knowledge at impact step 100 of an actor reported at `steps`.
    fn knowledge(steps: &[u32]) -> Knowledge {
        let mut v = Visibility::default();
        for &s in steps {
            v.reported(s);
        }
        let c = classify(Some(&pedestrian()), &[v], 100);
        c.map_or_else(|| panic!("no collision"), |c| c.knowledge)
    }

    #[test]
    fn a_crash_says_whether_sight_memory_or_nothing_failed() {
        let run = |a: u32, b: u32| (a..=b).collect::<Vec<_>>();
        // In view for the last two seconds, with a two-step gap bridged.
        let steady: Vec<u32> = run(80, 95).into_iter().chain(run(98, 99)).collect();
        assert_eq!(knowledge(&steady), Knowledge::InView);
        // Seen, then hidden for the last three seconds.
        assert_eq!(knowledge(&run(40, 70)), Knowledge::Forgotten);
        // Seen, hidden behind a truck, back in view for half a second: memory, not sight.
        let back: Vec<u32> = run(40, 70).into_iter().chain(run(95, 99)).collect();
        assert_eq!(knowledge(&back), Knowledge::Forgotten);
        // First seen half a second before impact: a surprise.
        assert_eq!(knowledge(&run(95, 99)), Knowledge::NeverSeen);
        assert_eq!(knowledge(&[]), Knowledge::NeverSeen);
        // Exactly one second of sight counts as in view.
        assert_eq!(knowledge(&run(90, 99)), Knowledge::InView);
        assert!(classify(None, &[Visibility::default()], 100).is_none());
    }
}
