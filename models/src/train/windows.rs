//! Training a recurrent network on windows of episodes, shared by every recurrent kind: random
//! windows of at most `window` rows, backpropagation through time from a zero state, a burn-in
//! without loss unless the window starts its episode, per-window gradients summed in window
//! order (so the result does not depend on the thread count), Adam with a cosine step size
//! within each round.

use super::Sequences;
use crate::adam::Adam;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use std::ops::Range;

/// A recurrent network as the windowed trainer sees it.
pub trait Recurrent: Send + Sync + Sized {
    /// Observation elements per row.
    fn inputs(&self) -> usize;
    /// Zeros of the same shapes: a gradient accumulator.
    fn zeros_like(&self) -> Self;
    /// Loss of one window of normalised `inputs` (row-major) from state `start` (zero when
    /// `None`) against its squashed `targets` (2 per row), counted from row `from` on, plus the
    /// auxiliary presence loss (`labels`, weight) when given; adds its gradient to `grads`.
    fn window_loss_and_grad(
        &self,
        inputs: &[f32],
        targets: &[f32],
        presence: Option<(&[f32], f32)>,
        from: usize,
        start: Option<&[f32]>,
        grads: &mut Self,
    ) -> f64;
    /// Numbers in the state a window can start from; 0 when the kind always starts from zero
    /// (then `stored_state_every` has no effect).
    fn state_len(&self) -> usize {
        0
    }
    /// The state before each row of one episode's `inputs`, run from a zero state at its
    /// start: `state_len()` numbers per row, appended to `out`.
    fn run_states(&self, _inputs: &[f32], _out: &mut Vec<f32>) {}
    /// Every trained tensor, in a fixed order.
    fn trainable(&self) -> Vec<&Vec<f32>>;
    /// The same, mutable.
    fn trainable_mut(&mut self) -> Vec<&mut Vec<f32>>;
}

/// How windows are drawn and steps taken.
#[derive(Clone, Copy, Debug)]
pub struct WindowPlan {
    /// Rows per window.
    pub window: usize,
    /// Leading rows without loss (warming the state up).
    pub burn_in: usize,
    /// Windows per step.
    pub batch: usize,
    /// Steps in the round.
    pub steps: usize,
    /// Adam's step size at the start of the round.
    pub learning_rate: f32,
    /// Its fraction reached at the end of the round (cosine).
    pub final_rate_fraction: f32,
    /// Weight of the auxiliary presence loss (0: off).
    pub presence_loss: f32,
    /// Share of the windows drawn around a safety-critical row (the expert braking at
    /// `CRITICAL_BRAKE_MPS2` or harder; the row in the middle of the window, so the loss sees
    /// what leads to the braking and what follows it) instead of anywhere: hard-example
    /// oversampling (0: off).
    pub critical_share: f32,
    /// Rows where the car is slower than this (m/s) are not safety-critical, however hard the
    /// expert's label brakes: at a standstill every braking label has the same effect (none),
    /// and drawing windows around those waits teaches waiting rather than braking (0: off).
    pub critical_min_speed_mps: f32,
    /// Start windows from the state the network itself reaches there, run from its episode's
    /// start with the current weights and refreshed every this many steps, instead of from a
    /// zero state (0: off). The burn-in still runs. So the network learns from the states it
    /// is in when it drives, memories older than a window included ("stored state").
    pub stored_state_every: usize,
    /// Drive with (and save) a running average of the weights over the round's steps, moved
    /// this much less than all the way to the new weights at each step (0: off).
    pub average_decay: f32,
    /// Below this speed (m/s) a braking label is trained as 0 m/s² (0: off).
    pub rest_hold_below_mps: f32,
    /// Share of the windows drawn around a row where the learner that drove a DAgger round
    /// asked for an acceleration `MISTAKE` or more from the label (the row in the middle of
    /// the window, as for `critical_share`): the learner's own mistakes (0: off).
    pub mistake_share: f32,
}

/// Braking at least this hard (m/s²) makes a row safety-critical.
pub const CRITICAL_BRAKE_MPS2: f32 = 4.0;

/// The step size at `step` of `steps` under a cosine from `base` down to `base · fraction`.
pub fn cosine_rate(base: f32, fraction: f32, step: usize, steps: usize) -> f32 {
    let progress = step as f32 / steps.max(1) as f32;
    let floor = base * fraction;
    floor + (base - floor) * 0.5 * (1.0 + (std::f32::consts::PI * progress).cos())
}

/// How windows are drawn from the episodes: anywhere, or (a `critical_share` of them) around a
/// safety-critical row, or (a `mistake_share`) around a mistake of the learner's.
struct WindowDraw<'a> {
    plan: WindowPlan,
    /// Episodes of at least two rows.
    usable: Vec<&'a Range<usize>>,
    /// (episode, row) of every safety-critical row, when some windows are to be around one.
    critical: Vec<(&'a Range<usize>, usize)>,
    /// (episode, row) of every mistake, when some windows are to be around one.
    mistakes: Vec<(&'a Range<usize>, usize)>,
}

impl<'a> WindowDraw<'a> {
    fn new(plan: &WindowPlan, data: &Sequences<'a>) -> Self {
        let usable: Vec<&Range<usize>> = data.episodes.iter().filter(|e| e.len() >= 2).collect();
        assert!(!usable.is_empty(), "no episode to train on");
        let critical = if plan.critical_share > 0.0 {
            critical_rows(&usable, data, plan.critical_min_speed_mps)
        } else {
            Vec::new()
        };
        let mistakes = if plan.mistake_share > 0.0 {
            mistake_rows(&usable, data)
        } else {
            Vec::new()
        };
        Self {
            plan: *plan,
            usable,
            critical,
            mistakes,
        }
    }

    /// (rows, first row with a loss): a window of at most `window` rows of one episode, its
    /// loss after the burn-in unless it starts the episode.
    fn window(&self, rng: &mut ChaCha8Rng) -> (Range<usize>, usize) {
        let plan = &self.plan;
        let shares = (plan.critical_share, plan.mistake_share);
        let near = rows_near(&self.critical, &self.mistakes, shares, rng);
        let (e, start) = if !near.is_empty() {
            // The row in the middle (or as near it as the episode's ends allow).
            let (e, row) = near[rng.random_range(0..near.len())];
            let len = plan.window.min(e.len());
            let start = (row + 1)
                .saturating_sub(len / 2)
                .max(e.start)
                .min(e.end - len);
            (e, start)
        } else {
            let e = self.usable[rng.random_range(0..self.usable.len())];
            let len = plan.window.min(e.len());
            let latest = e.len() - len;
            let offset = rng
                .random_range(0..=latest + plan.burn_in)
                .saturating_sub(plan.burn_in);
            (e, e.start + offset)
        };
        let len = plan.window.min(e.len());
        let from = if start == e.start {
            0
        } else {
            plan.burn_in.min(len - 1)
        };
        (start..start + len, from)
    }
}

/// The squashed acceleration label of braking at `CRITICAL_BRAKE_MPS2`: a label at or below
/// it is a hard braking (`atanh` of it for the pre-`tanh` labels the RBF fits).
pub fn critical_label() -> f32 {
    crate::action::ActionScale::default().squashed(memdrive_sim::Controls {
        steer_rad: 0.0,
        accel_mps2: -f64::from(CRITICAL_BRAKE_MPS2),
    })[1]
}

/// (episode, row) of every safety-critical row of `episodes` (the expert braking at
/// `CRITICAL_BRAKE_MPS2` or harder, the car going at least `min_speed_mps`), `data.targets`
/// holding 2 squashed actions per row.
pub(crate) fn critical_rows<'a>(
    episodes: &[&'a Range<usize>],
    data: &Sequences<'_>,
    min_speed_mps: f32,
) -> Vec<(&'a Range<usize>, usize)> {
    let threshold = critical_label();
    rows_where(episodes, |r| {
        data.targets[2 * r + 1] <= threshold
            && (min_speed_mps <= 0.0 || data.speeds[r] >= min_speed_mps)
    })
}

/// A driver's acceleration this far from the expert's label, in the squashed action space
/// (1.65 m/s²), makes a row a mistake for `mistake_share`: a stalled learner asking for
/// −0.9 m/s² where the expert pulls away at +1.5 is one, and so is braking at 3 m/s² where
/// the expert brakes at 8.
pub const MISTAKE: f32 = 0.3;

/// (episode, row) of every mistake of `episodes` (`data.mistakes` at least `MISTAKE`).
pub(crate) fn mistake_rows<'a>(
    episodes: &[&'a Range<usize>],
    data: &Sequences<'_>,
) -> Vec<(&'a Range<usize>, usize)> {
    rows_where(episodes, |r| {
        data.mistakes.get(r).is_some_and(|&m| m >= MISTAKE)
    })
}

/// The rows a draw is to fall near: one number picks the critical rows (below
/// `critical_share`), the mistakes (below `critical_share + mistake_share`) or none (empty:
/// anywhere). No number is drawn when both lists are empty, so the draws are as they were
/// before either kind of row existed.
pub(crate) fn rows_near<'s, 'a>(
    critical: &'s [(&'a Range<usize>, usize)],
    mistakes: &'s [(&'a Range<usize>, usize)],
    (critical_share, mistake_share): (f32, f32),
    rng: &mut ChaCha8Rng,
) -> &'s [(&'a Range<usize>, usize)] {
    if critical.is_empty() && mistakes.is_empty() {
        return &[];
    }
    let u = rng.random::<f32>();
    if u < critical_share {
        critical
    } else if u < critical_share + mistake_share {
        mistakes
    } else {
        &[]
    }
}

/// (episode, row) of every row of `episodes` that `keep` keeps, in order.
fn rows_where<'a>(
    episodes: &[&'a Range<usize>],
    keep: impl Fn(usize) -> bool,
) -> Vec<(&'a Range<usize>, usize)> {
    episodes
        .iter()
        .flat_map(|&e| e.clone().map(move |r| (e, r)))
        .filter(|&(_, r)| keep(r))
        .collect()
}

/// Squashed `targets` (2 per row) with every braking label of a row slower than `below`
/// (m/s, by `speeds`) raised to 0 m/s²: at a standstill every braking label means the same
/// (stay), and the hardest ones otherwise outweigh a pull-away where the two are hard to tell
/// apart (docs/driving.md). `None` when `below` is 0.
pub(crate) fn held_at_rest(targets: &[f32], speeds: &[f32], below: f32) -> Option<Vec<f32>> {
    if below <= 0.0 {
        return None;
    }
    let hold = crate::action::ActionScale::default().squashed(memdrive_sim::Controls::default())[1];
    let mut held = targets.to_vec();
    for (row, &v) in speeds.iter().enumerate() {
        if v < below && held[2 * row + 1] < hold {
            held[2 * row + 1] = hold;
        }
    }
    Some(held)
}

/// Moves each tensor of `average` towards the same tensor of `params` by `1 − decay` (Polyak
/// averaging).
pub(crate) fn average_into<'a>(
    average: impl IntoIterator<Item = &'a mut Vec<f32>>,
    params: impl IntoIterator<Item = &'a Vec<f32>>,
    decay: f32,
) {
    for (a, p) in average.into_iter().zip(params) {
        for (x, y) in a.iter_mut().zip(p) {
            *x = decay * *x + (1.0 - decay) * y;
        }
    }
}

/// Trains `params` for `plan.steps` Adam steps on random windows of the episodes in `data`.
/// `on_step(step, steps, loss)` hears of every step and stops training early by returning
/// `false`. Returns the mean window loss of the last 20 steps, and with `plan.average_decay`
/// set the running average of the weights over the steps (started from the weights the round
/// began with), which the learner then drives with.
pub fn train_windows<N: Recurrent + Clone>(
    params: &mut N,
    adam: &mut Adam,
    plan: &WindowPlan,
    data: &Sequences<'_>,
    rng: &mut ChaCha8Rng,
    threads: Option<usize>,
    on_step: &mut dyn FnMut(usize, usize, f64) -> bool,
) -> (f64, Option<N>) {
    // Held labels are what the windows are drawn by too: a wait at rest is no hard braking.
    let held = held_at_rest(data.targets, data.speeds, plan.rest_hold_below_mps);
    let data = &Sequences {
        targets: held.as_deref().unwrap_or(data.targets),
        ..*data
    };
    let Sequences {
        inputs,
        targets,
        episodes,
        presence,
        ..
    } = *data;
    let mut average = (plan.average_decay > 0.0).then(|| params.clone());
    let dim = params.inputs();
    let draw = WindowDraw::new(plan, data);
    let mut recent = Vec::new();
    let state_len = params.state_len();
    let refresh = plan.stored_state_every > 0 && state_len > 0;
    // The windows are drawn a refresh period ahead (nothing else draws from `rng` meanwhile,
    // so they are the windows drawn step by step), so that the stored state is run only as
    // far into each episode as a window of the period starts.
    let period = if refresh { plan.stored_state_every } else { 1 };
    let mut planned: Vec<Vec<(Range<usize>, usize)>> = Vec::new();
    // Per episode, the state before each of its rows up to the last a window starts at
    // (empty when off, and for an episode no window of the period starts in).
    let mut stored: Vec<Vec<f32>> = Vec::new();
    for step in 0..plan.steps {
        if step % period == 0 {
            planned = (0..period.min(plan.steps - step))
                .map(|_| (0..plan.batch).map(|_| draw.window(rng)).collect())
                .collect();
            if refresh {
                stored = stored_states(params, inputs, episodes, &planned, threads);
            }
        }
        let windows = &planned[step % period];
        let per_window = memdrive_sim::parallel::map_ordered(
            windows,
            threads,
            || (),
            |(), (rows, from)| {
                let mut grads = params.zeros_like();
                let labels = (plan.presence_loss > 0.0)
                    .then(|| (&presence[rows.clone()], plan.presence_loss));
                let start = (!stored.is_empty()).then(|| {
                    // The episode holding the window (episodes are in row order).
                    let i = episodes.partition_point(|e| e.end <= rows.start);
                    let at = rows.start - episodes[i].start;
                    &stored[i][at * state_len..(at + 1) * state_len]
                });
                let loss = params.window_loss_and_grad(
                    &inputs[rows.start * dim..rows.end * dim],
                    &targets[rows.start * 2..rows.end * 2],
                    labels,
                    *from,
                    start,
                    &mut grads,
                );
                (loss, grads)
            },
        );
        let mut loss = 0.0;
        for (l, _) in &per_window {
            loss += l / per_window.len() as f64;
        }
        let parts: Vec<Vec<&Vec<f32>>> = per_window.iter().map(|(_, g)| g.trainable()).collect();
        let n = per_window.len() as f32;
        let total = super::summed_in_order(&parts, threads, |b| b / n);
        adam.learning_rate = cosine_rate(
            plan.learning_rate,
            plan.final_rate_fraction,
            step,
            plan.steps,
        );
        adam.step(
            &mut params.trainable_mut(),
            &total.iter().collect::<Vec<_>>(),
        );
        if let Some(average) = average.as_mut() {
            average_into(
                average.trainable_mut(),
                params.trainable(),
                plan.average_decay,
            );
        }
        recent.push(loss);
        if !on_step(step, plan.steps, loss) {
            break;
        }
    }
    let tail = &recent[recent.len().saturating_sub(20)..];
    (tail.iter().sum::<f64>() / tail.len().max(1) as f64, average)
}

/// The state `params` reaches before every row of each episode, run from a zero state at its
/// start, up to the last row a window of `planned` starts at: `state_len` numbers per row, one
/// vector per episode (kept apart: gathering millions of rows into one vector took longer
/// than running them; empty for an episode no window starts in). Running less of an episode
/// changes none of the states it does run.
fn stored_states<N: Recurrent>(
    params: &N,
    inputs: &[f32],
    episodes: &[Range<usize>],
    planned: &[Vec<(Range<usize>, usize)>],
    threads: Option<usize>,
) -> Vec<Vec<f32>> {
    let (dim, state_len) = (params.inputs(), params.state_len());
    // Per episode, the rows to run: up to and including the latest window start.
    let mut needed = vec![0usize; episodes.len()];
    for (rows, _) in planned.iter().flatten() {
        // The episode holding the window (episodes are in row order).
        let i = episodes.partition_point(|e| e.end <= rows.start);
        needed[i] = needed[i].max(rows.start - episodes[i].start + 1);
    }
    // At least `MIN_RUN` rows where the episode has them: the input side is one matrix
    // product, and nalgebra multiplies one of 5 columns or fewer another way, which need not
    // give the same bits (here it does, but that is the CPU's and the kernel's to decide);
    // from 6 columns on a row's result does not depend on how many follow it.
    const MIN_RUN: usize = 6;
    let runs: Vec<Range<usize>> = episodes
        .iter()
        .zip(&needed)
        .map(|(e, &n)| match n {
            0 => e.start..e.start,
            n => e.start..e.start + n.max(MIN_RUN).min(e.len()),
        })
        .collect();
    memdrive_sim::parallel::map_ordered(
        &runs,
        threads,
        || (),
        |(), e| {
            let mut out = Vec::with_capacity(e.len() * state_len);
            if !e.is_empty() {
                params.run_states(&inputs[e.start * dim..e.end * dim], &mut out);
            }
            out
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn plan(critical_share: f32) -> WindowPlan {
        WindowPlan {
            window: 8,
            burn_in: 2,
            batch: 1,
            steps: 1,
            learning_rate: 1e-3,
            final_rate_fraction: 0.1,
            presence_loss: 0.0,
            critical_share,
            critical_min_speed_mps: 0.0,
            stored_state_every: 0,
            average_decay: 0.0,
            rest_hold_below_mps: 0.0,
            mistake_share: 0.0,
        }
    }

    /// Labels and speeds as a trainer sees them (drawing windows needs no inputs).
    fn sequences<'a>(
        episodes: &'a [Range<usize>],
        targets: &'a [f32],
        speeds: &'a [f32],
    ) -> Sequences<'a> {
        Sequences {
            inputs: &[],
            targets,
            episodes,
            presence: &[],
            speeds,
            mistakes: &[],
        }
    }

    /// Without oversampling windows fall anywhere (and draw exactly as before it existed: one
    /// number for the episode, one for the offset); with it, that share of windows has a row
    /// where the expert brakes hard in its middle, whole and inside its episode.
    #[test]
    fn a_share_of_windows_is_drawn_around_hard_braking() {
        let episodes = [0..30, 30..34, 34..100];
        // Hard braking at rows 20 and 60 only.
        let mut targets = vec![0.0f32; 200];
        for row in [20, 60] {
            targets[2 * row + 1] = -0.9;
        }
        let speeds = vec![10.0f32; 100];
        let data = sequences(&episodes, &targets, &speeds);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut middles = std::collections::BTreeMap::new();
        let draw = WindowDraw::new(&plan(0.5), &data);
        for _ in 0..2000 {
            let (rows, from) = draw.window(&mut rng);
            let episode = episodes
                .iter()
                .find(|e| e.contains(&rows.start))
                .unwrap_or_else(|| panic!("{rows:?} outside every episode"));
            assert!(rows.end <= episode.end && rows.len() == 8.min(episode.len()));
            assert!(from == 0 || from == 2);
            // Where a critical row sits when it is in the middle: the 4th of 8 rows.
            *middles.entry(rows.start + 3).or_insert(0usize) += 1;
        }
        let at_critical =
            middles.get(&20).copied().unwrap_or(0) + middles.get(&60).copied().unwrap_or(0);
        // Half of the draws put it there by design, a few more by chance.
        assert!(
            (950..1150).contains(&at_critical),
            "{at_critical} of 2000: {middles:?}"
        );
        // Off: the same draws as the plain sampler, never more than chance at those rows.
        let plain = WindowDraw::new(&plan(0.0), &data);
        assert!(plain.critical.is_empty());
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut again = ChaCha8Rng::seed_from_u64(1);
        for _ in 0..100 {
            let (rows, _) = plain.window(&mut rng);
            let e = &episodes[again.random_range(0..episodes.len())];
            let len = 8.min(e.len());
            let offset = again.random_range(0..=e.len() - len + 2).saturating_sub(2);
            assert_eq!(rows.start, e.start + offset);
        }
    }

    /// A `mistake_share` of the windows has a mistake of the learner's in its middle, beside
    /// the `critical_share` around hard braking; a row just short of a mistake is none.
    #[test]
    fn a_share_of_windows_is_drawn_around_the_learners_mistakes() {
        let episodes = [0..50, 50..120];
        let mut targets = vec![0.0f32; 240];
        targets[2 * 20 + 1] = -0.9;
        let speeds = vec![10.0f32; 120];
        let mut mistakes = vec![0.0f32; 120];
        mistakes[90] = MISTAKE;
        mistakes[40] = 0.9 * MISTAKE;
        let data = Sequences {
            mistakes: &mistakes,
            ..sequences(&episodes, &targets, &speeds)
        };
        let draw = WindowDraw::new(
            &WindowPlan {
                mistake_share: 0.3,
                ..plan(0.2)
            },
            &data,
        );
        assert_eq!(draw.mistakes.len(), 1);
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let (mut at_critical, mut at_mistake, mut at_near_miss) = (0, 0, 0);
        for _ in 0..2000 {
            let (rows, _) = draw.window(&mut rng);
            match rows.start + 3 {
                20 => at_critical += 1,
                90 => at_mistake += 1,
                40 => at_near_miss += 1,
                _ => {}
            }
        }
        // 20% and 30% of the draws by design, a few more by chance (about 1 in 80 each).
        assert!((380..480).contains(&at_critical), "{at_critical}");
        assert!((580..680).contains(&at_mistake), "{at_mistake}");
        assert!(at_near_miss < 60, "{at_near_miss}");
    }

    /// With a least speed, braking labels where the car is slower (a wait at a standstill)
    /// are not critical; without one they are.
    #[test]
    fn braking_labels_at_a_standstill_are_critical_only_without_a_least_speed() {
        let episodes = [0..50, 50..100];
        let mut targets = vec![0.0f32; 200];
        let mut speeds = vec![8.0f32; 100];
        for row in [10, 30, 70] {
            targets[2 * row + 1] = -0.9;
        }
        // Rows 30 and 70 brake at a standstill (or nearly).
        speeds[30] = 0.0;
        speeds[70] = 0.2;
        let data = sequences(&episodes, &targets, &speeds);
        let usable: Vec<&Range<usize>> = episodes.iter().collect();
        let rows = |min: f32| -> Vec<usize> {
            critical_rows(&usable, &data, min)
                .into_iter()
                .map(|(_, r)| r)
                .collect()
        };
        assert_eq!(rows(0.0), [10, 30, 70]);
        assert_eq!(rows(0.5), [10]);
        assert_eq!(rows(0.1), [10, 70]);
    }

    /// The share is checked like every configuration value, and at 0 it is left out of the
    /// configuration a weight file stores, so files trained without it are byte for byte as
    /// before.
    #[test]
    fn the_critical_share_is_checked_and_left_out_at_zero() {
        use crate::nets::{
            gru::GruConfig, hebbian::HebbianConfig, lru::LruConfig, transformer::TransformerConfig,
        };
        for share in [1.0, -0.1, f32::NAN] {
            let gru = GruConfig {
                critical_share: share,
                ..GruConfig::default()
            };
            let err = gru
                .validate()
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(err.contains("critical_share"), "{share}: {err}");
        }
        let stored = |v: serde_json::Result<serde_json::Value>| {
            v.ok().and_then(|v| v.get("critical_share").cloned())
        };
        // The GRU's defaults oversample too (its bundled recipe), and say so.
        let gru = stored(serde_json::to_value(GruConfig::default())).and_then(|v| v.as_f64());
        assert!(gru.is_some_and(|s| (s - 0.2).abs() < 1e-6), "{gru:?}");
        let off = GruConfig {
            critical_share: 0.0,
            ..GruConfig::default()
        };
        assert_eq!(stored(serde_json::to_value(off)), None);
        // The LRU's defaults oversample (its bundled recipe); its files say so.
        let lru = stored(serde_json::to_value(LruConfig::default())).and_then(|v| v.as_f64());
        assert!(lru.is_some_and(|s| (s - 0.4).abs() < 1e-6), "{lru:?}");
        assert_eq!(stored(serde_json::to_value(HebbianConfig::default())), None);
        // So do the transformer's.
        let transformer =
            stored(serde_json::to_value(TransformerConfig::default())).and_then(|v| v.as_f64());
        assert!(
            transformer.is_some_and(|s| (s - 0.2).abs() < 1e-6),
            "{transformer:?}"
        );
        let err = TransformerConfig {
            critical_share: 1.5,
            ..TransformerConfig::default()
        }
        .validate()
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("critical_share"), "{err}");
        let half = LruConfig {
            critical_share: 0.5,
            ..LruConfig::default()
        };
        assert!(half.validate().is_ok());
        assert_eq!(
            stored(serde_json::to_value(half)),
            Some(serde_json::json!(0.5))
        );
    }

    /// The least speed of a hard-braking row: checked in every kind, left out of weight files
    /// at 0 (so the bundled files stay as they were), kept when set.
    #[test]
    fn the_critical_least_speed_is_checked_and_left_out_at_zero() {
        use crate::nets::{
            gru::GruConfig, hebbian::HebbianConfig, lru::LruConfig, transformer::TransformerConfig,
        };
        let key = "critical_min_speed_mps";
        let checks = |v: f32| -> [Result<(), String>; 4] {
            let err = |r: Result<(), crate::Invalid>| r.map_err(|e| e.to_string());
            [
                err(GruConfig {
                    critical_min_speed_mps: v,
                    ..GruConfig::default()
                }
                .validate()),
                err(LruConfig {
                    critical_min_speed_mps: v,
                    ..LruConfig::default()
                }
                .validate()),
                err(HebbianConfig {
                    critical_min_speed_mps: v,
                    ..HebbianConfig::default()
                }
                .validate()),
                err(TransformerConfig {
                    critical_min_speed_mps: v,
                    ..TransformerConfig::default()
                }
                .validate()),
            ]
        };
        for bad in [-0.5, f32::NAN, f32::INFINITY, 1000.0] {
            for r in checks(bad) {
                let err = r.err().unwrap_or_default();
                assert!(err.contains(key), "{bad}: {err}");
            }
        }
        for good in [0.0, 0.5, 3.0] {
            for r in checks(good) {
                assert_eq!(r, Ok(()), "{good}");
            }
        }
        let stored = |v: serde_json::Value| v.get(key).cloned();
        let json = |c: TransformerConfig| serde_json::to_value(c).unwrap_or_default();
        assert_eq!(stored(json(TransformerConfig::default())), None);
        let set = TransformerConfig {
            critical_min_speed_mps: 0.5,
            ..TransformerConfig::default()
        };
        assert_eq!(stored(json(set)), Some(serde_json::json!(0.5)));
        let gru = serde_json::to_value(GruConfig::default()).unwrap_or_default();
        assert_eq!(stored(gru), None);
        // A file's configuration without the field (every file written before it) reads as
        // 0: every row.
        let mut without = serde_json::to_value(LruConfig {
            critical_min_speed_mps: 2.0,
            ..LruConfig::default()
        })
        .unwrap_or_default();
        assert_eq!(stored(without.clone()), Some(serde_json::json!(2.0)));
        if let Some(map) = without.as_object_mut() {
            map.remove(key);
        }
        match serde_json::from_value::<LruConfig>(without) {
            Ok(read) => assert_eq!(read.critical_min_speed_mps, 0.0),
            Err(e) => panic!("a configuration without {key}: {e}"),
        }
    }

    /// The stored state run only as far as the windows of a period start is the state run
    /// over the whole episode, bit for bit, at every row it runs, and shorter than it; an
    /// episode no window starts in is not run at all. (A window at an episode's first row
    /// runs the 6-row minimum; on this machine a 1-row run gives the same bits too, so the
    /// test would not catch that minimum's removal.)
    #[test]
    fn stored_states_run_only_as_far_as_a_window_starts_are_the_whole_runs() {
        // More than 5 inputs and rows, as nalgebra's matrix product needs to take its fast path.
        let inputs = 8;
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let params = crate::gru::GruParams::init(inputs, 6, &mut rng);
        let rows = crate::test_support::RandomRows::new(inputs, 4, 40, &mut rng);
        let episodes = &rows.episodes;
        // Windows starting at rows 2 and 30 of the first episode, 0 of the second, 17 of the
        // fourth; none in the third.
        let starts = [(2usize, 0usize), (30, 0), (40, 1), (137, 3)];
        let planned: Vec<Vec<(Range<usize>, usize)>> = starts
            .iter()
            .map(|&(start, _)| vec![(start..start + 8, 0)])
            .collect();
        let stored = stored_states(&params, &rows.frames, episodes, &planned, Some(2));
        let state_len = params.state_len();
        for (i, e) in episodes.iter().enumerate() {
            let mut whole = Vec::new();
            params.run_states(&rows.frames[e.start * inputs..e.end * inputs], &mut whole);
            let last = starts
                .iter()
                .filter(|&&(_, episode)| episode == i)
                .map(|&(start, _)| start - e.start + 1)
                .max();
            match last {
                None => assert!(stored[i].is_empty(), "episode {i}"),
                Some(rows) => {
                    assert!(stored[i].len() >= rows * state_len, "episode {i}");
                    assert!(stored[i].len() < whole.len(), "episode {i}");
                    assert_eq!(stored[i], whole[..stored[i].len()], "episode {i}");
                }
            }
        }
    }
}
