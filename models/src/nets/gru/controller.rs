//! The GRU driving: the hidden state it carries is the memory.

use super::{GruParams, StepCache};
use crate::snapshot::{Array, Axis, MemorySnapshot, Role, Tier, TierKind};

/// A GRU's short-term memory: its hidden state.
#[derive(Clone, Debug, PartialEq)]
pub struct HiddenState(pub Vec<f32>);

/// The GRU driving: its hidden state is the memory, owned here and carried between steps.
#[derive(Clone, Debug)]
pub struct GruController {
    params: std::sync::Arc<GruParams>,
    normaliser: std::sync::Arc<crate::normaliser::Normaliser>,
    scale: crate::action::ActionScale,
    input: Vec<f32>,
    hidden: Vec<f32>,
    last: Option<StepCache>,
}

impl GruController {
    /// A controller with a zero hidden state.
    pub fn new(
        params: std::sync::Arc<GruParams>,
        normaliser: std::sync::Arc<crate::normaliser::Normaliser>,
    ) -> Self {
        let (inputs, hidden) = (params.inputs, params.hidden);
        Self {
            params,
            normaliser,
            scale: crate::action::ActionScale::default(),
            input: vec![0.0; inputs],
            hidden: vec![0.0; hidden],
            last: None,
        }
    }
}

impl memdrive_sim::Controller for GruController {
    fn name(&self) -> &str {
        "gru"
    }

    fn reset(&mut self) {
        self.hidden.fill(0.0);
        self.last = None;
    }

    fn act(&mut self, obs: &memdrive_sim::Observation) -> memdrive_sim::Controls {
        self.normaliser.apply(obs.values(), &mut self.input);
        let step = self.params.step(&self.input, &self.hidden);
        self.hidden.clone_from(&step.h);
        let controls = self.scale.controls(self.params.head(&self.hidden, &self.input));
        self.last = Some(step);
        controls
    }
}

impl crate::MemoryController for GruController {
    fn memory(&self) -> MemorySnapshot {
        let hidden = self.hidden.len();
        let gates = |f: fn(&StepCache) -> &[f32]| {
            self.last
                .as_ref()
                .map_or(vec![0.0; hidden], |c| f(c).to_vec())
        };
        let unit = Axis::new("unit", hidden);
        MemorySnapshot::of(Tier {
            kind: TierKind::ShortTerm,
            carried: hidden,
            note: None,
            arrays: vec![
                Array::vector(
                    "hidden",
                    "Hidden state",
                    Role::State,
                    unit,
                    true,
                    self.hidden.clone(),
                ),
                Array::vector(
                    "update_gate",
                    "update gate",
                    Role::Kept,
                    unit,
                    false,
                    gates(StepCache::update_gate),
                ),
                Array::vector(
                    "reset_gate",
                    "Reset gate",
                    Role::Plain,
                    unit,
                    false,
                    gates(StepCache::reset_gate),
                ),
            ],
        })
    }

    fn forget(&mut self) {
        self.hidden.fill(0.0);
    }

    fn memory_state(&self) -> crate::MemoryState {
        crate::MemoryState::new(
            format!("a GRU of {} units", self.hidden.len()),
            HiddenState(self.hidden.clone()),
        )
    }

    fn set_memory_state(&mut self, state: &crate::MemoryState) -> crate::Result<()> {
        let units = self.hidden.len();
        let HiddenState(h) = state
            .take_as::<HiddenState>(|| format!("a GRU of {units} units"), |h| h.0.len() == units)?;
        self.hidden.copy_from_slice(h);
        Ok(())
    }
}
