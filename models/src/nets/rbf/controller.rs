//! The RBF network driving: it keeps nothing from one step to the next.

use super::RbfNetwork;
use crate::action::ActionScale;
use crate::normaliser::Normaliser;
use crate::snapshot::{Array, Axis, Role, Tier, TierKind};
use crate::{MemoryController, MemorySnapshot};
use memdrive_sim::{Controller, Controls, Observation};
use std::sync::Arc;

/// The RBF network driving: normalise, activate, read out.
#[derive(Clone, Debug)]
pub struct RbfController {
    net: Arc<RbfNetwork>,
    normaliser: Arc<Normaliser>,
    scale: ActionScale,
    input: Vec<f32>,
    activations: Vec<f32>,
}

impl RbfController {
    /// A controller over a fitted network and its observation statistics.
    pub fn new(net: Arc<RbfNetwork>, normaliser: Arc<Normaliser>) -> Self {
        let (inputs, units) = (normaliser.dim(), net.units());
        Self {
            net,
            normaliser,
            scale: ActionScale::default(),
            input: vec![0.0; inputs],
            activations: vec![0.0; units],
        }
    }
}

impl Controller for RbfController {
    fn name(&self) -> &str {
        "rbf"
    }

    fn reset(&mut self) {
        self.activations.fill(0.0);
    }

    fn act(&mut self, obs: &Observation) -> Controls {
        self.normaliser.apply(obs.values(), &mut self.input);
        self.net.activations(&self.input, &mut self.activations);
        self.scale
            .controls(self.net.output(&self.input, &self.activations))
    }
}

impl MemoryController for RbfController {
    fn memory(&self) -> MemorySnapshot {
        MemorySnapshot::of(Tier {
            kind: TierKind::ShortTerm,
            carried: 0,
            note: Some("none: nothing is carried from one step to the next (0 numbers)"),
            arrays: vec![Array::vector(
                "activations",
                "Activation of each unit now",
                Role::State,
                Axis::new("unit", self.activations.len()),
                false,
                self.activations.clone(),
            )],
        })
    }

    /// Nothing to forget: the activations are a function of the current frame alone.
    fn forget(&mut self) {}

    fn memory_state(&self) -> crate::MemoryState {
        crate::MemoryState::new("an RBF network (which keeps none)", ())
    }

    fn set_memory_state(&mut self, state: &crate::MemoryState) -> crate::Result<()> {
        state
            .take_as::<()>(|| "an RBF network (which keeps none)".into(), |_| true)
            .map(|_| ())
    }
}
