//! What a controller holds at one moment, as plain data for drawing and measuring.

/// A controller's memory now.
#[derive(Clone, Debug, PartialEq)]
pub enum MemorySnapshot {
    /// The RBF network: no state between steps, only how strongly each unit responds now.
    Rbf {
        /// Activation of each Gaussian unit for the current observation, in (0, 1].
        activations: Vec<f32>,
    },
    /// A recurrent network: the hidden state and the gates that decided it.
    Gru {
        /// Hidden state after this step.
        hidden: Vec<f32>,
        /// Update gate (share of the old state kept), per unit.
        update_gate: Vec<f32>,
        /// Reset gate, per unit.
        reset_gate: Vec<f32>,
    },
    /// A transformer over recent frames: the window and the attention over it.
    Transformer {
        /// Age of each frame in the window, in steps (0 = now), oldest first.
        ages: Vec<u32>,
        /// Attention of the newest token to each frame, per head: `[head][frame]`.
        attention: Vec<Vec<f32>>,
        /// Each frame's value projection in the key-value cache (before its age embedding),
        /// oldest first: everything the attention can read from the window.
        values: Vec<Vec<f32>>,
    },
}
