//! The plug every driver fits: the expert, the baselines and (in `memdrive-models`) the
//! learned controllers. The world never learns what drives it.

use crate::observation::Observation;
use crate::vehicle::Controls;
use crate::world::GroundTruth;

/// A driver.
pub trait Controller {
    /// Short name, as used on the command line.
    fn name(&self) -> &str;

    /// Called at the start of every episode.
    fn reset(&mut self);

    /// Offered the ground truth before each `act`. Only privileged drivers (the expert) look at
    /// it; a learned controller must leave this as the default, which ignores it.
    fn observe_truth(&mut self, _truth: &GroundTruth<'_>) {}

    /// One control step from what the sensors give.
    fn act(&mut self, obs: &Observation) -> Controls;
}
