//! The memory instruments, live: memory curves refitted on the recorded episode (and, on
//! request, the white-noise probe), belief probes fitted in the background and drawn as ghosts,
//! and influence by lag for the step on screen. The measuring is `memdrive_models::memory`'s;
//! this module schedules it off the frame loop and draws the results.

use super::lab::{Lab, LaneFrame, LaneKind};
use memdrive_models::memory::{
    self, Belief, DEFAULT_LAGS, MemoryCurve, NOISE_STEPS, PROBE_SEED_BASE, Recording,
};
use memdrive_models::{MemorySnapshot, Model};
use memdrive_sim::World;
use memdrive_sim::scenario::builtin;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{Duration, Instant};

/// Episodes of `occluded_crossing` each belief probe is fitted on.
const BELIEF_EPISODES: u64 = 30;
/// How often the live memory curves are refitted.
const REFIT_EVERY: Duration = Duration::from_secs(2);
/// Recorded steps needed before a live curve means anything.
const MIN_LIVE_STEPS: usize = 150;

/// A model's identity: its weights' address (a lane that loads new weights gets a new one).
type ModelKey = usize;

fn key(model: &Model) -> ModelKey {
    match model {
        Model::Rbf(n, _) => Arc::as_ptr(n) as usize,
        Model::Gru(p, _) => Arc::as_ptr(p) as usize,
        Model::Transformer(p, _) => Arc::as_ptr(p) as usize,
    }
}

enum Message {
    Belief(ModelKey, Box<Belief>),
    Live(Vec<(String, MemoryCurve)>),
    Noise(Vec<(String, MemoryCurve)>),
}

/// Where a controller believes the hidden pedestrian is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ghost {
    /// Decoded position relative to the car: metres ahead, metres left.
    pub relative_m: [f32; 2],
    /// The probe's held-out error at this time since the pedestrian was last seen (m).
    pub error_m: f32,
    /// How much better than a blind guess the probe does there, 0..1.
    pub confidence: f32,
}

/// The instruments' state.
pub struct Instruments {
    tx: Sender<Message>,
    rx: Receiver<Message>,
    beliefs: Vec<(ModelKey, Arc<Belief>)>,
    belief_pending: Vec<ModelKey>,
    /// Memory curves of the episode on screen, per learned lane, refitted as it runs.
    pub live: Vec<(String, MemoryCurve)>,
    /// Memory curves under the white-noise probe, once run.
    pub noise: Vec<(String, MemoryCurve)>,
    /// Whether the white-noise probe is running.
    pub noise_running: bool,
    live_running: bool,
    last_fit: Option<Instant>,
    last_fit_step: u32,
}

impl Default for Instruments {
    fn default() -> Self {
        let (tx, rx) = channel();
        Self {
            tx,
            rx,
            beliefs: Vec::new(),
            belief_pending: Vec::new(),
            live: Vec::new(),
            noise: Vec::new(),
            noise_running: false,
            live_running: false,
            last_fit: None,
            last_fit_step: 0,
        }
    }
}

fn learned_models(lab: &Lab) -> Vec<(usize, String, Model)> {
    lab.lanes()
        .iter()
        .enumerate()
        .filter_map(|(i, l)| match (l.kind, l.model()) {
            (LaneKind::Learned(k), Some(m)) => Some((i, k.as_str().to_owned(), m.clone())),
            _ => None,
        })
        .collect()
}

/// The recorded history of lane `index` as a recording of its state vectors.
fn history_recording(lab: &Lab, index: usize, model: &Model) -> Recording {
    let dim = memory::state_dim(model);
    let mut rec = Recording {
        state_dim: dim,
        input_dim: model.normaliser().dim(),
        ..Recording::default()
    };
    let mut state = vec![0.0; dim];
    for moment in lab.history() {
        let frame = &moment.lanes[index];
        let Some(snapshot) = &frame.memory else { break };
        memory::state_vector(model, snapshot, &mut state);
        rec.states.extend_from_slice(&state);
        rec.inputs
            .extend_from_slice(frame.world.observation().values());
        rec.hidden.push(None);
    }
    rec.episodes.push(0..rec.hidden.len());
    rec
}

impl Instruments {
    /// Takes in finished jobs and starts due ones: belief probes when `beliefs` are wanted,
    /// live curves when `curves` are; `wake` repaints when a job finishes.
    pub fn update(
        &mut self,
        lab: &Lab,
        wake: &(impl Fn() + Clone + Send + 'static),
        beliefs: bool,
        curves: bool,
    ) {
        while let Ok(message) = self.rx.try_recv() {
            match message {
                Message::Belief(key, belief) => {
                    self.belief_pending.retain(|k| *k != key);
                    self.beliefs.push((key, Arc::from(belief)));
                }
                Message::Live(curves) => {
                    self.live = curves;
                    self.live_running = false;
                }
                Message::Noise(curves) => {
                    self.noise = curves;
                    self.noise_running = false;
                }
            }
        }
        let models = learned_models(lab);
        // Belief probes for weights not probed yet.
        for (_, _, model) in models.iter().filter(|_| beliefs) {
            let k = key(model);
            if self.beliefs.iter().any(|(b, _)| *b == k) || self.belief_pending.contains(&k) {
                continue;
            }
            self.belief_pending.push(k);
            let (tx, model, wake) = (self.tx.clone(), model.clone(), wake.clone());
            std::thread::spawn(move || {
                let Some(Ok(spec)) = builtin("occluded_crossing") else {
                    return;
                };
                let rec = memory::record_driving(
                    &model,
                    &spec,
                    PROBE_SEED_BASE..PROBE_SEED_BASE + BELIEF_EPISODES,
                    Some(1),
                );
                let _ = tx.send(Message::Belief(k, Box::new(memory::belief_probe(&rec))));
                wake();
            });
        }
        // Live curves on the recorded episode, every few seconds while it grows.
        let due = self.last_fit.is_none_or(|t| t.elapsed() >= REFIT_EVERY);
        let step = lab.step_count();
        if curves
            && due
            && !self.live_running
            && step != self.last_fit_step
            && lab.history().len() >= MIN_LIVE_STEPS
        {
            self.last_fit = Some(Instant::now());
            self.last_fit_step = step;
            self.live_running = true;
            let recordings: Vec<(String, Recording)> = models
                .iter()
                .map(|(i, name, model)| (name.clone(), history_recording(lab, *i, model)))
                .collect();
            let (tx, wake) = (self.tx.clone(), wake.clone());
            std::thread::spawn(move || {
                let elements = memory::curve_elements(&crate::learned::builtin_layout());
                let lags = DEFAULT_LAGS.min(MIN_LIVE_STEPS / 3);
                let refs: Vec<&Recording> = recordings.iter().map(|(_, r)| r).collect();
                let curves = memory::memory_curves(&refs, &elements, lags, Some(1));
                let named = recordings
                    .iter()
                    .map(|(n, _)| n.clone())
                    .zip(curves)
                    .collect();
                let _ = tx.send(Message::Live(named));
                wake();
            });
        }
    }

    /// Starts the white-noise probe of every learned lane in the background.
    pub fn run_noise_probe(&mut self, lab: &Lab, wake: impl Fn() + Send + 'static) {
        if self.noise_running {
            return;
        }
        self.noise_running = true;
        let models = learned_models(lab);
        let tx = self.tx.clone();
        std::thread::spawn(move || {
            // The built-in scenarios always load; an empty pool would give empty curves.
            let pool = crate::memory::pool(Some(1)).unwrap_or_default();
            let recordings: Vec<Recording> = models
                .iter()
                .map(|(_, _, m)| crate::memory::noise_recording(m, &pool, NOISE_STEPS))
                .collect();
            let refs: Vec<&Recording> = recordings.iter().collect();
            let elements = memory::curve_elements(&crate::learned::builtin_layout());
            let curves = memory::memory_curves(&refs, &elements, DEFAULT_LAGS, Some(1));
            let named = models.into_iter().map(|(_, n, _)| n).zip(curves).collect();
            let _ = tx.send(Message::Noise(named));
            wake();
        });
    }

    /// The belief probe of `model`, once fitted.
    pub fn belief(&self, model: &Model) -> Option<&Arc<Belief>> {
        let k = key(model);
        self.beliefs.iter().find(|(b, _)| *b == k).map(|(_, b)| b)
    }

    /// Whether any belief probe is still being fitted.
    pub fn beliefs_pending(&self) -> bool {
        !self.belief_pending.is_empty()
    }

    /// Where `model`'s controller, holding `snapshot`, believes the hidden pedestrian of
    /// `world` is — when one is hidden and the probe is fitted.
    pub fn ghost(&self, model: &Model, snapshot: &MemorySnapshot, world: &World) -> Option<Ghost> {
        let hidden = memory::nearest_hidden_pedestrian(world)?;
        let belief = self.belief(model)?;
        let readout = belief.readout.as_ref()?;
        let mut state = vec![0.0; memory::state_dim(model)];
        memory::state_vector(model, snapshot, &mut state);
        let p = readout.predict_row(&state);
        let bin = belief
            .time_since_seen_s
            .iter()
            .position(|&c| (hidden.time_since_seen_s - c).abs() <= memory::BELIEF_BIN_S / 2.0)
            .or_else(|| belief.time_since_seen_s.len().checked_sub(1))?;
        let (error, blind) = (belief.error_m[bin], belief.baseline_m[bin].max(1e-6));
        Some(Ghost {
            relative_m: [p[0], p[1]],
            error_m: error as f32,
            confidence: (1.0 - error / blind).clamp(0.0, 1.0) as f32,
        })
    }
}

/// Influence by lag (0…`DEFAULT_LAGS`) of the lane whose recorded frames up to the viewed step
/// are `recent` (oldest first), for the step shown last.
pub fn influence_now(model: &Model, recent: &[&LaneFrame]) -> Vec<f64> {
    let lags = DEFAULT_LAGS;
    let Some(last) = recent.len().checked_sub(1) else {
        return vec![0.0; lags + 1];
    };
    if recent[last].memory.is_none() {
        return vec![0.0; lags + 1];
    }
    let first = last.saturating_sub(lags);
    let raw: Vec<f32> = recent[first..=last]
        .iter()
        .flat_map(|f| f.world.observation().values().iter().copied())
        .collect();
    // The recurrent state before the first frame: the one recorded a step earlier, or zero at
    // the start of the episode.
    let mut before = vec![0.0; memory::state_dim(model)];
    if let Some(snapshot) = first.checked_sub(1).and_then(|i| recent[i].memory.as_ref()) {
        memory::state_vector(model, snapshot, &mut before);
    }
    memory::influence_at(model, &raw, &before, lags)
}

/// Line colour of each learned controller in the instrument plots.
pub fn controller_color(name: &str) -> egui::Color32 {
    match name {
        "rbf" => egui::Color32::from_rgb(230, 120, 90),
        "gru" => egui::Color32::from_rgb(90, 180, 240),
        _ => egui::Color32::from_rgb(170, 220, 90),
    }
}

/// The instruments panel: memory curves, the white-noise probe button, belief probe errors and
/// influence by lag at the step on screen. Returns true when the probe was asked for.
pub fn panel_ui(ui: &mut egui::Ui, instruments: &Instruments, lab: &Lab, step: u32) -> bool {
    let mut run_noise = false;
    ui.heading("Memory instruments");
    ui.label(egui::RichText::new("Memory curve").strong()).on_hover_text(
        "Held-out R² of a linear readout from the controller's state now to what it observed k steps ago (lidar distances and ego state). Solid: this episode so far, refitted every 2 s. Dashed: the white-noise probe, where frames are drawn independently so only memory can explain the past. Values below -0.5 are drawn at -0.5.",
    );
    egui_plot::Plot::new("memory curves")
        .height(180.0)
        .include_y(0.0)
        .include_y(1.0)
        .x_axis_label("lag (s)")
        .y_axis_label("R²")
        .legend(egui_plot::Legend::default())
        .allow_scroll(false)
        .show(ui, |plot| {
            for (curves, dashed) in [(&instruments.live, false), (&instruments.noise, true)] {
                for (name, curve) in curves {
                    let points: Vec<[f64; 2]> = curve
                        .lags
                        .iter()
                        .zip(&curve.r2)
                        // A readout that generalises worse than the mean scores below 0 without
                        // bound; the plot clips at -0.5 so the interesting range stays visible.
                        .map(|(&k, &r)| [k as f64 * 0.1, r.max(-0.5)])
                        .collect();
                    let label = if dashed {
                        format!("{name} (noise probe)")
                    } else {
                        name.clone()
                    };
                    let mut line =
                        egui_plot::Line::new(label, points).color(controller_color(name));
                    if dashed {
                        line = line.style(egui_plot::LineStyle::dashed_loose());
                    }
                    plot.line(line);
                }
            }
        });
    if instruments.live.is_empty() {
        ui.small(format!(
            "the live curves appear once {MIN_LIVE_STEPS} steps are recorded"
        ));
    }
    ui.horizontal(|ui| {
        let label = if instruments.noise_running {
            "White-noise probe running…"
        } else {
            "Run white-noise probe"
        };
        if ui
            .add_enabled(!instruments.noise_running, egui::Button::new(label))
            .on_hover_text("Feed each controller 10,000 frames drawn independently from real driving and fit its memory curve (a few seconds, in the background)")
            .clicked()
        {
            run_noise = true;
        }
    });
    for (name, curve) in &instruments.noise {
        ui.small(format!(
            "{name}: capacity {:.2} (noise probe)",
            curve.capacity
        ));
    }
    ui.separator();
    ui.label(egui::RichText::new("Belief probe: hidden pedestrian").strong())
        .on_hover_text("A linear readout from the state to where the nearest hidden pedestrian really is, fitted on 30 episodes of occluded_crossing and scored on held-out ones. Its guesses are drawn as ghosts in the world views.");
    if instruments.beliefs_pending() {
        ui.small("fitting belief probes…");
    }
    for lane in lab.lanes() {
        let (LaneKind::Learned(kind), Some(model)) = (lane.kind, lane.model()) else {
            continue;
        };
        if let Some(belief) = instruments.belief(model) {
            let errors: Vec<String> = belief
                .time_since_seen_s
                .iter()
                .zip(&belief.error_m)
                .map(|(t, e)| format!("{t:.2} s: {e:.1} m"))
                .collect();
            ui.small(format!(
                "{}: error by time since seen: {}",
                kind.as_str(),
                errors.join(", ")
            ));
        }
    }
    ui.separator();
    ui.label(egui::RichText::new("Influence by lag, this step").strong())
        .on_hover_text("‖∂action/∂observation k steps ago‖ through the network's own backward pass: how much what it saw k steps ago still moves what it does now.");
    for (index, lane) in lab.lanes().iter().enumerate() {
        let (LaneKind::Learned(kind), Some(model)) = (lane.kind, lane.model()) else {
            continue;
        };
        let recent: Vec<&LaneFrame> = lab
            .moments_up_to(step, DEFAULT_LAGS + 2)
            .map(|m| &m.lanes[index])
            .collect();
        let influence = influence_now(model, &recent);
        let bars: Vec<egui_plot::Bar> = influence
            .iter()
            .enumerate()
            .map(|(k, &v)| egui_plot::Bar::new(k as f64 * 0.1, v).width(0.08))
            .collect();
        ui.small(kind.as_str());
        egui_plot::Plot::new(("influence", index))
            .height(70.0)
            .include_y(0.0)
            .include_x(0.0)
            .include_x(DEFAULT_LAGS as f64 * 0.1)
            .allow_scroll(false)
            .allow_drag(false)
            .allow_zoom(false)
            .show(ui, |plot| {
                plot.bar_chart(
                    egui_plot::BarChart::new(format!("{} influence", kind.as_str()), bars)
                        .color(controller_color(kind.as_str())),
                );
            });
    }
    run_noise
}
