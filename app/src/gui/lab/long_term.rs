//! The long-term memory of a learned lane: its weights, summarised for drawing.

use memdrive_models::Model;
use memdrive_models::weights::WeightFile;

/// The long-term memory of a learned controller: its weights, summarised for drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct LongTermMemory {
    /// Where the weights came from (a path, or the bundled file).
    pub source: String,
    /// Number of learned numbers (normalisation statistics excluded).
    pub parameters: usize,
    /// Histogram of every weight: (bin centre, count).
    pub histogram: Vec<(f64, f64)>,
    /// Width of a histogram bin.
    pub bin_width: f64,
    /// The context window K, for a transformer.
    pub window: Option<usize>,
    /// The matrix most worth looking at, by name, with its shape `(rows, cols)`, row-major.
    pub matrix: (String, usize, usize, Vec<f32>),
}

impl LongTermMemory {
    pub(super) fn of(file: &WeightFile, model: &Model, source: String) -> Self {
        let parameters = file.tensors.values().map(|t| t.data.len()).sum();
        let all = || file.tensors.values().flat_map(|t| t.data.iter().copied());
        let (lo, hi) = all().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        // Clip the histogram's range to the bulk of the weights so one outlier does not squash it.
        let limit = lo.abs().max(hi.abs()).clamp(1e-6, 4.0);
        const BINS: usize = 41;
        let width = 2.0 * limit / BINS as f32;
        let mut counts = vec![0.0f64; BINS];
        for v in all() {
            let bin = ((v + limit) / width).floor().clamp(0.0, (BINS - 1) as f32) as usize;
            counts[bin] += 1.0;
        }
        let histogram = counts
            .into_iter()
            .enumerate()
            .map(|(i, c)| (f64::from(-limit + (i as f32 + 0.5) * width), c))
            .collect();
        let preferred = file.kind.long_term_matrix();
        let matrix = file
            .tensors
            .get_key_value(preferred)
            .or_else(|| file.tensors.iter().find(|(_, t)| t.shape.len() == 2))
            .map(|(name, t)| {
                let rows = t.shape.first().copied().unwrap_or(1);
                let cols = t.data.len() / rows.max(1);
                (name.clone(), rows, cols, t.data.clone())
            })
            .unwrap_or_default();
        let window = model.window();
        Self {
            source,
            parameters,
            histogram,
            bin_width: f64::from(width),
            window,
            matrix,
        }
    }
}
