//! The plastic network driving: its memory is its activity and the Hebbian trace of its
//! synapses, both carried from step to step.

use super::HebbianParams;
use crate::snapshot::{Array, Axis, MemorySnapshot, Role, Tier, TierKind};
use std::sync::Arc;

/// The short-term memory of a plastic network: activity and trace.
#[derive(Clone, Debug, PartialEq)]
pub struct HebbianState {
    /// Activity, (hidden,).
    pub h: Vec<f32>,
    /// The Hebbian trace, (hidden, hidden).
    pub hebb: Vec<f32>,
}

/// The plastic network driving.
#[derive(Clone, Debug)]
pub struct HebbianController {
    params: Arc<HebbianParams>,
    normaliser: Arc<crate::normaliser::Normaliser>,
    scale: crate::action::ActionScale,
    input: Vec<f32>,
    state: HebbianState,
    /// The neuromodulator of the last step.
    m: f32,
    /// False when every plastic coefficient is 0 (the ablation): the trace does not act.
    plastic: bool,
    scratch: Vec<f32>,
}

impl HebbianController {
    /// A controller with no activity and an empty trace.
    pub fn new(params: Arc<HebbianParams>, normaliser: Arc<crate::normaliser::Normaliser>) -> Self {
        let (inputs, n, plastic) = (params.inputs, params.hidden, params.plastic());
        Self {
            params,
            normaliser,
            scale: crate::action::ActionScale::default(),
            input: vec![0.0; inputs],
            state: HebbianState {
                h: vec![0.0; n],
                hebb: vec![0.0; n * n],
            },
            m: 0.0,
            scratch: vec![0.0; 2 * n],
            plastic,
        }
    }

    fn clear(&mut self) {
        self.state.h.fill(0.0);
        self.state.hebb.fill(0.0);
        self.m = 0.0;
    }
}

impl memdrive_sim::Controller for HebbianController {
    fn name(&self) -> &str {
        "hebbian"
    }

    fn reset(&mut self) {
        self.clear();
    }

    fn act(&mut self, obs: &memdrive_sim::Observation) -> memdrive_sim::Controls {
        self.normaliser.apply(obs.values(), &mut self.input);
        let (m, out) = self.params.step_in_place(
            &self.input,
            &mut self.state.h,
            &mut self.state.hebb,
            &mut self.scratch,
        );
        self.m = m;
        self.scale.controls(out)
    }
}

impl crate::MemoryController for HebbianController {
    fn memory(&self) -> MemorySnapshot {
        let n = self.state.h.len();
        let m = self.m;
        let synapses = Tier {
            kind: TierKind::Synaptic,
            carried: n * n,
            note: (!self.plastic).then_some(
                "Plasticity off (alpha = 0): the trace still follows its rule, but no longer changes what the network does.",
            ),
            arrays: vec![
                Array::vector(
                    "modulator",
                    "Neuromodulator M (orange: potentiation, blue: depression)",
                    Role::OverTime,
                    Axis::new("modulator", 1),
                    true,
                    vec![m],
                ),
                Array::matrix(
                    "trace",
                    "Hebbian trace (orange: strengthened synapses, blue: weakened; full colour at the clip)",
                    Role::Plain,
                    [Axis::new("receiving unit", n), Axis::new("sending unit", n)],
                    true,
                    self.state.hebb.clone(),
                ),
            ],
        };
        let activity = Tier {
            kind: TierKind::ShortTerm,
            carried: n,
            note: None,
            arrays: vec![Array::vector(
                "activity",
                "Activity h",
                Role::State,
                Axis::new("unit", n),
                true,
                self.state.h.clone(),
            )],
        };
        MemorySnapshot {
            tiers: vec![synapses, activity],
        }
    }

    fn forget(&mut self) {
        self.clear();
    }

    fn memory_state(&self) -> crate::MemoryState {
        crate::MemoryState::new(
            format!("a Hebbian network of {} units", self.state.h.len()),
            self.state.clone(),
        )
    }

    fn set_memory_state(&mut self, state: &crate::MemoryState) -> crate::Result<()> {
        let n = self.state.h.len();
        let s = state.take_as::<HebbianState>(
            || format!("a Hebbian network of {n} units"),
            |s| s.h.len() == n && s.hebb.len() == n * n,
        )?;
        self.state.clone_from(s);
        Ok(())
    }
}
