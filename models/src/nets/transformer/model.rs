//! The transformer as a whole: its parameters, tokens, the readout from the newest token (the
//! block, the final layer norm and the head) with its backward pass and loss, the influence of
//! each frame, and its tensors in a weight file.

use super::TransformerConfig;
use crate::kernels::affine;
use crate::layers::{NormOut, affine_backward, layer_norm, layer_norm_backward};

/// Outputs: steering and acceleration (pre-`tanh`).
pub(super) const OUTPUTS: usize = 2;

/// Parameters, row-major, PyTorch-style names in `named`.
#[derive(Clone, Debug, PartialEq)]
pub struct TransformerParams {
    /// Observation elements.
    pub inputs: usize,
    /// Frames in the window.
    pub window: usize,
    /// Token width.
    pub d_model: usize,
    /// Heads.
    pub heads: usize,
    /// MLP width.
    pub d_mlp: usize,
    /// Tensors in the order of `NAMES`.
    pub tensors: Vec<Vec<f32>>,
}

/// Tensor names, in storage order.
pub const NAMES: [&str; 24] = [
    "embed.weight",
    "embed.bias",
    "attn.0.ln.weight",
    "attn.0.ln.bias",
    "attn.0.q_proj.weight",
    "attn.0.q_proj.bias",
    "attn.0.k_proj.weight",
    "attn.0.k_proj.bias",
    "attn.0.v_proj.weight",
    "attn.0.v_proj.bias",
    "attn.0.age_key",
    "attn.0.age_value",
    "attn.0.out_proj.weight",
    "attn.0.out_proj.bias",
    "mlp.0.ln.weight",
    "mlp.0.ln.bias",
    "mlp.0.fc1.weight",
    "mlp.0.fc1.bias",
    "mlp.0.fc2.weight",
    "mlp.0.fc2.bias",
    "ln_f.weight",
    "ln_f.bias",
    "head.weight",
    "head.bias",
];

// Indices into `tensors`.
pub(super) const EMBED_W: usize = 0;
pub(super) const EMBED_B: usize = 1;
pub(super) const LN1_G: usize = 2;
pub(super) const LN1_B: usize = 3;
pub(super) const Q_W: usize = 4;
pub(super) const Q_B: usize = 5;
pub(super) const K_W: usize = 6;
pub(super) const K_B: usize = 7;
pub(super) const V_W: usize = 8;
pub(super) const V_B: usize = 9;
pub(super) const AGE_K: usize = 10;
pub(super) const AGE_V: usize = 11;
pub(super) const O_W: usize = 12;
pub(super) const O_B: usize = 13;
pub(super) const LN2_G: usize = 14;
pub(super) const LN2_B: usize = 15;
pub(super) const FC1_W: usize = 16;
pub(super) const FC1_B: usize = 17;
pub(super) const FC2_W: usize = 18;
pub(super) const FC2_B: usize = 19;
pub(super) const LNF_G: usize = 20;
pub(super) const LNF_B: usize = 21;
pub(super) const HEAD_W: usize = 22;
pub(super) const HEAD_B: usize = 23;
/// The auxiliary presence head (d,) and (1,): trained, never written to a weight file (after
/// the tensors of `NAMES`).
pub(super) const PRESENCE_W: usize = 24;
pub(super) const PRESENCE_B: usize = 25;

/// A frame's cache entry: its key and value projections (before the age embedding) and the
/// layer norm they were computed from.
pub type KeyValue = (Vec<f32>, Vec<f32>, NormOut);

/// Everything one readout computed, kept for the backward pass.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Readout {
    /// Raw outputs (pre-`tanh`).
    pub y: [f32; 2],
    /// Attention of the newest token to each frame, per head: `[head][frame]`, oldest first.
    pub attention: Vec<Vec<f32>>,
    pub(super) frames: Vec<Vec<f32>>,
    pub(super) tokens: Vec<Vec<f32>>,
    pub(super) ln1: Vec<NormOut>,
    /// Each frame's key and value with its age embedding: (n, d) row-major each.
    pub(super) keys: Vec<f32>,
    pub(super) values: Vec<f32>,
    pub(super) query: Vec<f32>,
    pub(super) heads_out: Vec<f32>,
    pub(super) u: Vec<f32>,
    pub(super) ln2: NormOut,
    pub(super) hidden: Vec<f32>,
    pub(super) m: Vec<f32>,
    pub(super) lnf: NormOut,
}

impl TransformerParams {
    /// Shape of every tensor, in the order of `NAMES`.
    pub fn shapes(inputs: usize, c: &TransformerConfig) -> Vec<Vec<usize>> {
        let (d, k, f) = (c.d_model, c.window, c.d_mlp);
        vec![
            vec![d, inputs],
            vec![d],
            vec![d],
            vec![d],
            vec![d, d],
            vec![d],
            vec![d, d],
            vec![d],
            vec![d, d],
            vec![d],
            vec![k, d],
            vec![k, d],
            vec![d, d],
            vec![d],
            vec![d],
            vec![d],
            vec![f, d],
            vec![f],
            vec![d, f],
            vec![d],
            vec![d],
            vec![d],
            vec![OUTPUTS, d],
            vec![OUTPUTS],
        ]
    }

    /// Weights uniform in ±1/√fan_in, biases and age embeddings zero, layer norms identity.
    pub fn init(inputs: usize, c: &TransformerConfig, rng: &mut impl rand::Rng) -> Self {
        use rand::RngExt;
        assert!(c.heads >= 1 && c.d_model.is_multiple_of(c.heads) && c.window >= 1);
        let tensors = Self::shapes(inputs, c)
            .iter()
            .zip(NAMES)
            .map(|(shape, name)| {
                let n: usize = shape.iter().product();
                if name.ends_with("ln.weight") || name == "ln_f.weight" {
                    vec![1.0; n]
                } else if shape.len() == 2 && !name.contains("age") {
                    let bound = 1.0 / (shape[1] as f32).sqrt();
                    (0..n).map(|_| rng.random_range(-bound..bound)).collect()
                } else {
                    vec![0.0; n]
                }
            })
            // Zeros, drawing nothing: without the presence loss training is what it was.
            .chain([vec![0.0; c.d_model], vec![0.0]])
            .collect();
        Self {
            inputs,
            window: c.window,
            d_model: c.d_model,
            heads: c.heads,
            d_mlp: c.d_mlp,
            tensors,
        }
    }

    /// Zeros of the same shapes.
    pub fn zeros_like(&self) -> Self {
        Self {
            tensors: self.tensors.iter().map(|t| vec![0.0; t.len()]).collect(),
            ..self.clone()
        }
    }

    pub(super) fn t(&self, i: usize) -> &[f32] {
        &self.tensors[i]
    }

    /// A frame's token.
    pub fn token(&self, x: &[f32]) -> Vec<f32> {
        let mut t = vec![0.0; self.d_model];
        affine(self.t(EMBED_W), self.t(EMBED_B), x, &mut t);
        t
    }

    /// The readout from the newest of `frames` (oldest first, at most `window`), given each
    /// frame's token and its cached key/value projections: the block, then the final layer
    /// norm and the head, `y = W_head LN_f(m) + b_head`.
    pub fn readout_cached(&self, tokens: &[Vec<f32>], cache: &[KeyValue]) -> Readout {
        self.readout_with(tokens, cache, true)
    }

    /// [`Self::readout_cached`] without the copies of the window's tokens and layer norms that
    /// only the full backward pass (`backward`) reads: the same action and attention, for
    /// driving and for the stretch trainer, which keeps the frames' own.
    pub fn readout_driving(&self, tokens: &[Vec<f32>], cache: &[KeyValue]) -> Readout {
        self.readout_with(tokens, cache, false)
    }

    fn readout_with(&self, tokens: &[Vec<f32>], cache: &[KeyValue], for_backward: bool) -> Readout {
        let n = tokens.len();
        assert!(n >= 1 && n <= self.window && cache.len() == n);
        let mut r = self.block(tokens, cache, for_backward);
        r.lnf = layer_norm(&r.m, self.t(LNF_G), self.t(LNF_B)); // (d,)
        affine(self.t(HEAD_W), self.t(HEAD_B), &r.lnf.0, &mut r.y); // (2,)
        r
    }

    /// The readout for a window of frames (row-major, oldest first), computed from scratch.
    pub fn readout(&self, frames: &[f32]) -> Readout {
        let tokens: Vec<Vec<f32>> = frames
            .chunks_exact(self.inputs)
            .map(|x| self.token(x))
            .collect();
        let cache: Vec<_> = tokens.iter().map(|t| self.key_value(t)).collect();
        let mut r = self.readout_cached(&tokens, &cache);
        r.frames = frames
            .chunks_exact(self.inputs)
            .map(<[f32]>::to_vec)
            .collect();
        r
    }

    /// Loss `mean_o (tanh(y_o) − target_o)²` of one readout (made by `readout`); adds its
    /// gradient, scaled by `weight`, to `grads` and returns the loss.
    pub fn loss_and_grad(
        &self,
        r: &Readout,
        target: [f32; 2],
        presence: Option<(f32, f32)>,
        weight: f32,
        grads: &mut Self,
    ) -> f64 {
        let (loss, dy, dlnf) = self.head_loss(r, target, presence, weight, &mut grads.tensors);
        self.backward(r, dy, &dlnf, grads);
        loss
    }

    /// The loss of readout `r` and its gradients where they leave the heads: `(loss, ∂L/∂y,
    /// ∂L/∂LN_f(m) through the presence head)`, the presence head's own gradient added to
    /// `g`.
    pub(super) fn head_loss(
        &self,
        r: &Readout,
        target: [f32; 2],
        presence: Option<(f32, f32)>,
        weight: f32,
        g: &mut [Vec<f32>],
    ) -> (f64, [f32; OUTPUTS], Vec<f32>) {
        let mut loss = 0.0f64;
        let mut dy = [0.0f32; OUTPUTS];
        for o in 0..OUTPUTS {
            let a = r.y[o].tanh();
            let err = a - target[o];
            loss += f64::from(err * err) / OUTPUTS as f64;
            dy[o] = weight * 2.0 * err / OUTPUTS as f32 * (1.0 - a * a);
        }
        // The presence head reads the same final features as the action head.
        let mut dlnf = vec![0.0f32; self.d_model];
        if let Some((label, lambda)) = presence {
            let features = &r.lnf.0;
            let logit = self.t(PRESENCE_B)[0]
                + self
                    .t(PRESENCE_W)
                    .iter()
                    .zip(features)
                    .map(|(w, x)| w * x)
                    .sum::<f32>();
            // Cross-entropy from the logit, stable for large |logit|.
            loss +=
                f64::from(lambda * (logit.max(0.0) - logit * label + (-logit.abs()).exp().ln_1p()));
            let d = weight * lambda * (1.0 / (1.0 + (-logit).exp()) - label);
            for ((gw, &x), (dl, &w)) in g[PRESENCE_W]
                .iter_mut()
                .zip(features)
                .zip(dlnf.iter_mut().zip(self.t(PRESENCE_W)))
            {
                *gw += d * x;
                *dl += d * w;
            }
            g[PRESENCE_B][0] += d;
        }
        (loss, dy, dlnf)
    }
}

impl TransformerParams {
    /// The tensors of a weight file.
    pub fn weight_tensors(&self) -> std::collections::BTreeMap<String, crate::weights::Tensor> {
        let config = TransformerConfig {
            window: self.window,
            d_model: self.d_model,
            heads: self.heads,
            d_mlp: self.d_mlp,
            ..TransformerConfig::default()
        };
        NAMES
            .iter()
            .zip(Self::shapes(self.inputs, &config))
            .zip(&self.tensors)
            .map(|((name, shape), data)| {
                (
                    (*name).to_owned(),
                    crate::weights::Tensor::new(shape, data.clone()),
                )
            })
            .collect()
    }

    /// Rebuilds the network from a loaded file, checking every shape against the config.
    pub fn from_weights(
        file: &mut crate::weights::WeightFile,
    ) -> Result<Self, crate::Invalid> {
        let config: TransformerConfig = file.config("transformer", TransformerConfig::validate)?;
        let inputs = file.normaliser.dim();
        let mut tensors = Vec::with_capacity(NAMES.len());
        for (name, shape) in NAMES.iter().zip(Self::shapes(inputs, &config)) {
            tensors.push(file.take(name, &shape)?);
        }
        tensors.extend([vec![0.0; config.d_model], vec![0.0]]);
        file.no_extra_tensors()?;
        Ok(Self {
            inputs,
            window: config.window,
            d_model: config.d_model,
            heads: config.heads,
            d_mlp: config.d_mlp,
            tensors,
        })
    }
}

impl TransformerParams {
    /// How much the squashed action of readout `r` (made by `readout`) depends on each frame of
    /// its window: for every frame, newest first, the Frobenius norm of `∂tanh(y)/∂x` (2 ×
    /// inputs). Frames older than the window are not in it, so their influence is zero.
    pub fn input_influence(&self, r: &Readout) -> Vec<f64> {
        let mut scratch = self.zeros_like();
        let mut squares = vec![0.0f64; r.frames.len()];
        for o in 0..OUTPUTS {
            let a = r.y[o].tanh();
            let mut dy = [0.0f32; OUTPUTS];
            dy[o] = 1.0 - a * a;
            let none = vec![0.0; self.d_model];
            for (lag, dx) in self
                .backward(r, dy, &none, &mut scratch)
                .iter()
                .rev()
                .enumerate()
            {
                squares[lag] += dx.iter().map(|v| f64::from(v * v)).sum::<f64>();
            }
        }
        squares.into_iter().map(f64::sqrt).collect()
    }

    /// Back-propagates `dy = ∂L/∂y`, plus `extra_dlnf`, a gradient reaching the final
    /// features another way, through readout `r`: adds the parameter gradients to `grads` and
    /// returns `∂L/∂x` for every frame, oldest first.
    pub(super) fn backward(
        &self,
        r: &Readout,
        dy: [f32; OUTPUTS],
        extra_dlnf: &[f32],
        grads: &mut Self,
    ) -> Vec<Vec<f32>> {
        let g = &mut grads.tensors;
        let dm = self.head_backward(r, dy, extra_dlnf, g);
        let dtokens = self.block_backward(r, &dm, g); // (n, d)
        // Tokens: t_j = W_in x_j + b_in.
        r.frames
            .iter()
            .zip(&dtokens)
            .map(|(frame, dt)| {
                let mut dx = vec![0.0; self.inputs]; // (inputs,)
                let (dw, db) = two(g, EMBED_W, EMBED_B);
                affine_backward(self.t(EMBED_W), frame, dt, dw, db, &mut dx);
                dx
            })
            .collect()
    }
}

impl TransformerParams {
    /// Back through the head and the final layer norm of readout `r`: adds their gradients to
    /// `g` and returns `∂L/∂m`.
    pub(super) fn head_backward(
        &self,
        r: &Readout,
        dy: [f32; OUTPUTS],
        extra_dlnf: &[f32],
        g: &mut [Vec<f32>],
    ) -> Vec<f32> {
        let mut dlnf = extra_dlnf.to_vec(); // (d,)
        {
            let (dw, db) = two(g, HEAD_W, HEAD_B);
            affine_backward(self.t(HEAD_W), &r.lnf.0, &dy, dw, db, &mut dlnf);
        }
        let mut dm = vec![0.0; self.d_model]; // (d,)
        {
            let (dg, dbeta) = two(g, LNF_G, LNF_B);
            layer_norm_backward(&r.lnf.1, r.lnf.2, self.t(LNF_G), &dlnf, dg, dbeta, &mut dm);
        }
        dm
    }
}

/// Two distinct tensors of a gradient list, mutably.
pub(super) fn two(g: &mut [Vec<f32>], a: usize, b: usize) -> (&mut [f32], &mut [f32]) {
    assert!(a < b);
    let (left, right) = g.split_at_mut(b);
    (&mut left[a], &mut right[0])
}
