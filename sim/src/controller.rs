//! The plugs every driver fits: the expert, the baselines and (in `memdrive-models`) the
//! learned controllers. The world never learns what drives it.
//!
//! A `Controller` reads what the sensors give and nothing else. Only a `Privileged` driver —
//! the expert and its memoryless `reactive` variant — also reads the ground truth; a learned
//! controller implements `Controller` alone, so nothing can hand it the truth.

use crate::observation::Observation;
use crate::vehicle::Controls;
use crate::world::{GroundTruth, World};

/// A driver that reads the sensors.
pub trait Controller {
    /// Short name, as used on the command line.
    fn name(&self) -> &str;

    /// Called at the start of every episode.
    fn reset(&mut self);

    /// One control step from what the sensors give.
    fn act(&mut self, obs: &Observation) -> Controls;
}

/// A driver that reads the ground truth too: the expert and its baselines, never a learned
/// controller.
pub trait Privileged: Controller {
    /// Reads the ground truth; called before each `act`.
    fn observe_truth(&mut self, truth: &GroundTruth<'_>);

    /// One control step in `world`: the ground truth read, then the sensors.
    fn act_in(&mut self, world: &World) -> Controls {
        self.observe_truth(&world.truth());
        self.act(world.observation())
    }
}

/// A driver of an episode as the episode loop holds it: one that reads the sensors only, or a
/// privileged one.
pub enum Pilot {
    /// Reads only what the sensors give (the learned controllers, `cruise`).
    Sensing(Box<dyn Controller + Send>),
    /// Reads the ground truth too (the expert and `reactive`).
    Privileged(Box<dyn Privileged + Send>),
}

impl Pilot {
    /// Its short name.
    pub fn name(&self) -> &str {
        match self {
            Self::Sensing(c) => c.name(),
            Self::Privileged(p) => p.name(),
        }
    }

    /// Called at the start of every episode.
    pub fn reset(&mut self) {
        match self {
            Self::Sensing(c) => c.reset(),
            Self::Privileged(p) => p.reset(),
        }
    }

    /// One control step in `world`: a privileged driver reads the ground truth first.
    pub fn act(&mut self, world: &World) -> Controls {
        match self {
            Self::Sensing(c) => c.act(world.observation()),
            Self::Privileged(p) => p.act_in(world),
        }
    }
}
