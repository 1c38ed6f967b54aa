//! The memory curve: held-out R² of ridge readouts from the state to what was observed k
//! steps ago, beside the same from the present observation alone.

use super::*;

/// R²(k) for k = 0…L, with the current-observation baseline and the capacity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemoryCurve {
    /// The lags, in steps of 0.1 s.
    pub lags: Vec<usize>,
    /// Held-out R² of reading the observation k steps ago from the state now.
    pub r2: Vec<f64>,
    /// The same from the current observation alone.
    pub r2_current_only: Vec<f64>,
    /// Σₖ max(R²(k), 0) over k = 0…L.
    pub capacity: f64,
    /// The same over k ≥ 1 only (Jaeger's memory capacity): what is kept of the past, without
    /// the present.
    pub capacity_past: f64,
    /// Observation elements averaged over (those that vary in the held-out rows).
    pub elements: usize,
}

/// Rows usable for every lag up to `lags`, and where training rows end.
pub(super) fn lagged_rows(rec: &Recording, lags: usize) -> (Vec<usize>, usize) {
    let rows: Vec<usize> = rec
        .episodes
        .iter()
        .flat_map(|e| (e.start + lags).min(e.end)..e.end)
        .collect();
    let split = (rows.len() as f64 * TRAIN_SHARE) as usize;
    (rows, split)
}

pub(super) fn gather(
    data: &[f32],
    dim: usize,
    rows: &[usize],
    columns: Option<&[usize]>,
) -> DMatrix<f32> {
    match columns {
        None => DMatrix::from_fn(rows.len(), dim, |r, c| data[rows[r] * dim + c]),
        Some(cols) => {
            DMatrix::from_fn(rows.len(), cols.len(), |r, c| data[rows[r] * dim + cols[c]])
        }
    }
}

/// The memory curve of a recording over `elements` of the observation, for lags 0…`lags`.
pub fn memory_curve(rec: &Recording, elements: &[usize], lags: usize) -> MemoryCurve {
    memory_curves(&[rec], elements, lags, Some(1)).remove(0)
}

/// What the memory curves of recordings with the same inputs share: the lagged targets and
/// the current-observation baseline.
pub(super) struct Lagged {
    rows: Vec<usize>,
    split: usize,
    /// (rows, elements × (lags + 1)): block k holds the observation k steps before each row.
    targets: DMatrix<f32>,
}

/// Memory curves of several recordings; recordings with identical inputs (the white-noise
/// probe feeds every controller the same frames) share their targets and baseline. The
/// recordings are fitted on up to `threads` threads (`None`: all cores); each fit is the same
/// computation whatever the thread count, so the curves are too.
pub fn memory_curves(
    recs: &[&Recording],
    elements: &[usize],
    lags: usize,
    threads: Option<usize>,
) -> Vec<MemoryCurve> {
    let m = elements.len();
    let mut shared: Vec<(&Recording, Lagged)> = Vec::new();
    let mut jobs = Vec::with_capacity(recs.len());
    for rec in recs {
        let same = |other: &Recording| other.inputs == rec.inputs && other.episodes == rec.episodes;
        let index = match shared.iter().position(|(other, _)| same(other)) {
            Some(i) => i,
            None => {
                let (rows, split) = lagged_rows(rec, lags);
                let targets = DMatrix::from_fn(rows.len(), m * (lags + 1), |r, c| {
                    let (k, e) = (c / m, elements[c % m]);
                    rec.inputs[(rows[r] - k) * rec.input_dim + e]
                });
                shared.push((
                    rec,
                    Lagged {
                        rows,
                        split,
                        targets,
                    },
                ));
                // The baseline is one more fit, run with the others.
                jobs.push((rec, shared.len() - 1, true));
                shared.len() - 1
            }
        };
        jobs.push((rec, index, false));
    }
    let shared_ref = &shared;
    let fitted = memdrive_sim::parallel::map_ordered(
        &jobs,
        threads,
        || (),
        |(), &(rec, index, baseline)| {
            let lagged = &shared_ref[index].1;
            let (data, dim) = if baseline {
                (&rec.inputs, rec.input_dim)
            } else {
                (&rec.states, rec.state_dim)
            };
            let features = gather(data, dim, &lagged.rows, None);
            score(&features, &lagged.targets, lagged.split, m, lags)
        },
    );
    let mut baselines: Vec<Option<Vec<f64>>> = vec![None; shared.len()];
    let mut curves = Vec::with_capacity(recs.len());
    for (&(_, index, baseline), (r2, counted)) in jobs.iter().zip(fitted) {
        if baseline {
            baselines[index] = Some(r2);
            continue;
        }
        curves.push(MemoryCurve {
            lags: (0..=lags).collect(),
            capacity: r2.iter().map(|v| v.max(0.0)).sum(),
            capacity_past: r2[1..].iter().map(|v| v.max(0.0)).sum(),
            r2,
            r2_current_only: Vec::new(),
            elements: counted,
        });
    }
    let mut job_index = jobs.iter().filter(|(_, _, b)| !*b).map(|(_, i, _)| *i);
    for curve in &mut curves {
        if let Some(i) = job_index.next() {
            curve.r2_current_only = baselines[i].clone().unwrap_or_default();
        }
    }
    curves
}

/// The covariance of raw observation frames, (elements, elements).
pub type FrameCovariance = DMatrix<f64>;

/// The covariance of the raw frames of `pool` (row-major, `dim` columns): what the white-noise
/// probe draws from, independently at every step.
pub fn frame_covariance(pool: &[f32], dim: usize) -> DMatrix<f64> {
    let rows = pool.len() / dim.max(1);
    let mut mean = vec![0.0f64; dim];
    for frame in pool.chunks_exact(dim) {
        for (m, &v) in mean.iter_mut().zip(frame) {
            *m += f64::from(v) / rows.max(1) as f64;
        }
    }
    let centred = DMatrix::from_fn(rows, dim, |r, c| f64::from(pool[r * dim + c]) - mean[c]);
    (centred.transpose() * &centred) / rows.max(1) as f64
}

/// The memory curve of `model` under the white-noise probe, whose frames have covariance
/// `frame_cov` (`frame_covariance` of its pool), predicted from its parameters (for a kind with
/// a closed form), over `elements`, lags 0…`lags`.
pub fn predicted_curve(
    model: &Model,
    frame_cov: &DMatrix<f64>,
    elements: &[usize],
    lags: usize,
) -> Option<Vec<f64>> {
    model
        .net()
        .predicted_memory_curve(model.normaliser(), frame_cov, elements, lags)
}

/// Fits `features → targets` on the first `split` rows, scores the rest: mean R² per lag block
/// of `m` columns, and how many columns were scored.
pub(super) fn score(
    features: &DMatrix<f32>,
    targets: &DMatrix<f32>,
    split: usize,
    m: usize,
    lags: usize,
) -> (Vec<f64>, usize) {
    let test = features.nrows() - split;
    if split == 0 || test == 0 {
        return (vec![0.0; lags + 1], 0);
    }
    let ridge = Ridge::fit(
        &features.rows(0, split).into_owned(),
        &targets.rows(0, split).into_owned(),
    );
    let predicted = ridge.predict(&features.rows(split, test).into_owned());
    // An element scored only where it varies at least 1% as much as in the training rows.
    let floor: Vec<f64> = column_variances(&targets.rows(0, split).into_owned())
        .into_iter()
        .map(|v| 0.01 * v)
        .collect();
    let r2 = r_squared(&targets.rows(split, test).into_owned(), &predicted, &floor);
    let mut counted = 0;
    let per_lag = (0..=lags)
        .map(|k| {
            let scores: Vec<f64> = r2[k * m..(k + 1) * m].iter().flatten().copied().collect();
            counted = counted.max(scores.len());
            scores.iter().sum::<f64>() / scores.len().max(1) as f64
        })
        .collect();
    (per_lag, counted)
}
