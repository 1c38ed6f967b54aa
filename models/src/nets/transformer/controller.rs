//! The transformer driving: the window of the last K frames is its memory.

use super::TransformerParams;
use super::model::KeyValue;
use crate::snapshot::{Array, Axis, MemorySnapshot, Role, Tier, TierKind};

/// One cached frame: its token, and its key/value projections with the layer norm behind them.
type CachedFrame = (Vec<f32>, KeyValue);

/// A transformer's window as a value: the frames it holds, oldest first.
#[derive(Clone, Debug)]
pub struct WindowState {
    frames: Vec<CachedFrame>,
}

impl WindowState {
    /// An empty window: what `forget` leaves.
    pub fn empty() -> Self {
        Self { frames: Vec::new() }
    }
}

/// The transformer driving: the window of the last K frames is its memory, kept as a ring
/// buffer of tokens and key/value projections.
#[derive(Clone, Debug)]
pub struct TransformerController {
    params: std::sync::Arc<TransformerParams>,
    normaliser: std::sync::Arc<crate::normaliser::Normaliser>,
    scale: crate::action::ActionScale,
    input: Vec<f32>,
    window: std::collections::VecDeque<CachedFrame>,
    attention: Vec<Vec<f32>>,
    /// Frames it may look back over: the trained window K, or fewer when shrunk at run time.
    limit: usize,
}

impl TransformerController {
    /// The same controller looking back over at most `frames` frames (1…K): a shrunk window,
    /// so a user can watch the cliff of its memory move. Frames beyond it are dropped as
    /// frames beyond K always are; the weights (and the age embeddings of the frames it keeps)
    /// are unchanged. `None` for a limit outside 1…K.
    pub fn with_window_limit(mut self, frames: usize) -> Option<Self> {
        if frames == 0 || frames > self.params.window {
            return None;
        }
        self.limit = frames;
        while self.window.len() > self.limit {
            self.window.pop_front();
        }
        Some(self)
    }

    /// A controller with an empty window.
    pub fn new(
        params: std::sync::Arc<TransformerParams>,
        normaliser: std::sync::Arc<crate::normaliser::Normaliser>,
    ) -> Self {
        let (inputs, k) = (params.inputs, params.window);
        Self {
            params,
            normaliser,
            scale: crate::action::ActionScale::default(),
            input: vec![0.0; inputs],
            window: std::collections::VecDeque::with_capacity(k + 1),
            attention: Vec::new(),
            limit: k,
        }
    }
}

impl memdrive_sim::Controller for TransformerController {
    fn name(&self) -> &str {
        "transformer"
    }

    fn reset(&mut self) {
        self.window.clear();
        self.attention.clear();
    }

    fn act(&mut self, obs: &memdrive_sim::Observation) -> memdrive_sim::Controls {
        self.normaliser.apply(obs.values(), &mut self.input);
        let token = self.params.token(&self.input);
        let kv = self.params.key_value(&token);
        self.window.push_back((token, kv));
        while self.window.len() > self.limit {
            self.window.pop_front();
        }
        let (tokens, cache): (Vec<Vec<f32>>, Vec<_>) = self.window.iter().cloned().unzip();
        let readout = self.params.readout_cached(&tokens, &cache);
        self.attention = readout.attention;
        self.scale.controls(readout.y)
    }
}

impl crate::MemoryController for TransformerController {
    fn memory(&self) -> MemorySnapshot {
        let (n, heads, d, k) = (
            self.window.len(),
            self.params.heads,
            self.params.d_model,
            self.params.window,
        );
        // Columns by age, newest first; the readout stores them oldest first.
        let mut attention = vec![0.0; heads * n];
        for (h, row) in self.attention.iter().enumerate().take(heads) {
            for (age, w) in row.iter().rev().enumerate().take(n) {
                attention[h * n + age] = *w;
            }
        }
        // Row `age` holds the value projection of the frame of that age; rows past the frames
        // held stay zero.
        let mut values = vec![0.0; k * d];
        for (age, (_, (_, v, _))) in self.window.iter().rev().take(k).enumerate() {
            values[age * d..(age + 1) * d].copy_from_slice(v);
        }
        let age = |len| Axis::new("frame age", len).in_unit("steps");
        MemorySnapshot::of(Tier {
            kind: TierKind::Working,
            carried: n * 3 * d,
            note: None,
            arrays: vec![
                Array::matrix(
                    "attention",
                    "Attention",
                    Role::Attention,
                    [Axis::new("head", heads), age(n)],
                    false,
                    attention,
                ),
                Array::matrix(
                    "values",
                    "Value cache",
                    Role::State,
                    [age(k), Axis::new("feature", d)],
                    true,
                    values,
                ),
            ],
        })
    }

    fn forget(&mut self) {
        self.window.clear();
        self.attention.clear();
    }

    fn memory_state(&self) -> crate::MemoryState {
        crate::MemoryState::new(
            format!("a transformer of width {}", self.params.d_model),
            WindowState {
                frames: self.window.iter().cloned().collect(),
            },
        )
    }

    fn set_memory_state(&mut self, state: &crate::MemoryState) -> crate::Result<()> {
        let d = self.params.d_model;
        let w = state.take_as::<WindowState>(
            || format!("a transformer of width {d}"),
            |w| w.frames.iter().all(|(t, _)| t.len() == d),
        )?;
        // Frames beyond this controller's window are gone, as they would be had it seen them.
        let keep = w.frames.len().min(self.limit);
        self.window = w.frames[w.frames.len() - keep..].iter().cloned().collect();
        self.attention.clear();
        Ok(())
    }
}
