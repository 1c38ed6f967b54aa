//! The LRU driving: its complex state is the memory, owned here and carried between steps.

use super::cell::Lambda;
use super::{LruParams, StepCache};
use crate::snapshot::{Array, Axis, MemorySnapshot, Role, Tier, TierKind};
use std::sync::Arc;

/// An LRU's short-term memory: its state, real and imaginary parts.
#[derive(Clone, Debug, PartialEq)]
pub struct LruState {
    /// Real parts, one per channel.
    pub re: Vec<f32>,
    /// Imaginary parts.
    pub im: Vec<f32>,
}

/// The LRU driving.
#[derive(Clone, Debug)]
pub struct LruController {
    params: Arc<LruParams>,
    normaliser: Arc<crate::normaliser::Normaliser>,
    scale: crate::action::ActionScale,
    input: Vec<f32>,
    state: LruState,
    /// Half-lives, longest first (the same at every step: from the weights).
    half_lives: Vec<f32>,
    /// λ and γ, computed once: the weights do not change while it drives.
    lambda: Lambda,
    last: Option<StepCache>,
}

impl LruController {
    /// A controller with a zero state.
    pub fn new(params: Arc<LruParams>, normaliser: Arc<crate::normaliser::Normaliser>) -> Self {
        let (inputs, n) = (params.inputs, params.state);
        let (half_lives, lambda) = (params.half_lives(), params.lambda());
        Self {
            params,
            normaliser,
            scale: crate::action::ActionScale::default(),
            input: vec![0.0; inputs],
            state: LruState {
                re: vec![0.0; n],
                im: vec![0.0; n],
            },
            half_lives,
            lambda,
            last: None,
        }
    }
}

impl memdrive_sim::Controller for LruController {
    fn name(&self) -> &str {
        "lru"
    }

    fn reset(&mut self) {
        self.state.re.fill(0.0);
        self.state.im.fill(0.0);
        self.last = None;
    }

    fn act(&mut self, obs: &memdrive_sim::Observation) -> memdrive_sim::Controls {
        self.normaliser.apply(obs.values(), &mut self.input);
        let step =
            self.params
                .step_with(&self.lambda, &self.input, (&self.state.re, &self.state.im));
        self.state.re.clone_from(&step.h.0);
        self.state.im.clone_from(&step.h.1);
        let controls = self.scale.controls(step.out);
        self.last = Some(step);
        controls
    }
}

impl crate::MemoryController for LruController {
    fn memory(&self) -> MemorySnapshot {
        let n = self.state.re.len();
        let magnitude = self
            .state
            .re
            .iter()
            .zip(&self.state.im)
            .map(|(r, i)| r.hypot(*i))
            .collect();
        let state = [self.state.re.as_slice(), self.state.im.as_slice()].concat();
        MemorySnapshot::of(Tier {
            kind: TierKind::ShortTerm,
            carried: 2 * n,
            note: None,
            arrays: vec![
                Array::vector(
                    "magnitude",
                    "|h| per channel",
                    Role::OverTime,
                    Axis::new("channel", n),
                    false,
                    magnitude,
                ),
                Array::vector(
                    "half_life",
                    "Half-life of each channel, longest first (steps; from the weights)",
                    Role::Bars,
                    Axis::new("channel", n).in_unit("steps"),
                    false,
                    self.half_lives.clone(),
                ),
                Array::vector(
                    "state",
                    "State h (real parts, then imaginary parts)",
                    Role::State,
                    Axis::new("component", 2 * n),
                    true,
                    state,
                ),
            ],
        })
    }

    fn forget(&mut self) {
        self.state.re.fill(0.0);
        self.state.im.fill(0.0);
    }

    fn memory_state(&self) -> crate::MemoryState {
        crate::MemoryState::new(
            format!("an LRU of {} channels", self.state.re.len()),
            self.state.clone(),
        )
    }

    fn set_memory_state(&mut self, state: &crate::MemoryState) -> crate::Result<()> {
        let n = self.state.re.len();
        let s = state.take_as::<LruState>(
            || format!("an LRU of {n} channels"),
            |s| s.re.len() == n && s.im.len() == n,
        )?;
        self.state.clone_from(s);
        Ok(())
    }
}
