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

/// The transformer driving: the window of the last K frames is its memory, kept as ring
/// buffers of tokens and of key/value projections (two of them, so each step reads both as
/// slices without copying a frame).
#[derive(Clone, Debug)]
pub struct TransformerController {
    params: std::sync::Arc<TransformerParams>,
    normaliser: std::sync::Arc<crate::normaliser::Normaliser>,
    scale: crate::action::ActionScale,
    input: Vec<f32>,
    tokens: std::collections::VecDeque<Vec<f32>>,
    cache: std::collections::VecDeque<KeyValue>,
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
        self.drop_beyond_limit();
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
            tokens: std::collections::VecDeque::with_capacity(k + 1),
            cache: std::collections::VecDeque::with_capacity(k + 1),
            attention: Vec::new(),
            limit: k,
        }
    }

    /// Drops the oldest frames until at most `limit` are held.
    fn drop_beyond_limit(&mut self) {
        while self.tokens.len() > self.limit {
            self.tokens.pop_front();
            self.cache.pop_front();
        }
    }

    /// Empties the window.
    fn clear(&mut self) {
        self.tokens.clear();
        self.cache.clear();
        self.attention.clear();
    }
}

impl memdrive_sim::Controller for TransformerController {
    fn name(&self) -> &str {
        "transformer"
    }

    fn reset(&mut self) {
        self.clear();
    }

    fn act(&mut self, obs: &memdrive_sim::Observation) -> memdrive_sim::Controls {
        self.normaliser.apply(obs.values(), &mut self.input);
        let token = self.params.token(&self.input);
        let kv = self.params.key_value(&token);
        self.tokens.push_back(token);
        self.cache.push_back(kv);
        self.drop_beyond_limit();
        let readout = self
            .params
            .readout_driving(self.tokens.make_contiguous(), self.cache.make_contiguous());
        self.attention = readout.attention;
        self.scale.controls(readout.y)
    }
}

impl crate::MemoryController for TransformerController {
    fn memory(&self) -> MemorySnapshot {
        let (n, heads, d, k) = (
            self.tokens.len(),
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
        for (age, (_, v, _)) in self.cache.iter().rev().take(k).enumerate() {
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
        self.clear();
    }

    fn memory_state(&self) -> crate::MemoryState {
        crate::MemoryState::new(
            format!("a transformer of width {}", self.params.d_model),
            WindowState {
                frames: self.tokens.iter().cloned().zip(self.cache.iter().cloned()).collect(),
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
        let kept = &w.frames[w.frames.len() - keep..];
        self.tokens = kept.iter().map(|(t, _)| t.clone()).collect();
        self.cache = kept.iter().map(|(_, c)| c.clone()).collect();
        self.attention.clear();
        Ok(())
    }
}
