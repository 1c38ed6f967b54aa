//! The "Memory horizon" panel: the behavioural forgetting curve of every lane — accuracy of the
//! right call in `memory_gap` against how long the pedestrian was hidden, with its 95% interval
//! — measured by `crate::horizon` in the background and cached per model (and per transformer
//! window), so a lane that changes weights or window is measured again and the others are not.

use super::instruments::{controller_color, panic_text};
use super::lab::{Driver, Lab, Lane, ModelId};
use crate::eval::Factory;
use crate::horizon::{self, BRIDGED, ControllerHorizon, DEFAULT_GAPS, Entry};
use memdrive_sim::scenario::builtin;
use memdrive_sim::{Expert, ScenarioSpec};
use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, channel};

/// Each lane's marker in the plot, and the same shape in its legend line.
const MARKERS: [egui_plot::MarkerShape; 6] = [
    egui_plot::MarkerShape::Circle,
    egui_plot::MarkerShape::Square,
    egui_plot::MarkerShape::Diamond,
    egui_plot::MarkerShape::Up,
    egui_plot::MarkerShape::Cross,
    egui_plot::MarkerShape::Plus,
];
const MARKS: [&str; 6] = [
    "circles",
    "squares",
    "diamonds",
    "triangles",
    "crosses",
    "plus signs",
];

/// Held-out seeds per gap (training episodes use seeds from 1,000,000 up).
pub const SEEDS: Range<u64> = 0..200;

/// What a curve was measured for: a learned model with its window limit, or the expert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HorizonKey {
    /// A learned lane's model, and its transformer window if shrunk.
    Learned(ModelId, Option<usize>),
    /// The expert.
    Expert,
}

impl HorizonKey {
    /// The key of what drives `lane` now.
    pub fn of(lane: &Lane) -> Self {
        match lane.model_id() {
            Some(id) => Self::Learned(id, lane.window_limit()),
            None => Self::Expert,
        }
    }
}

type Outcome = Result<Vec<(HorizonKey, ControllerHorizon)>, String>;

/// A measurement running in the background.
struct Job {
    rx: Receiver<Outcome>,
    done: Arc<AtomicUsize>,
    total: usize,
    keys: Vec<HorizonKey>,
}

/// The panel's state: cached curves and the measurement under way.
pub struct HorizonPanel {
    cache: HashMap<HorizonKey, ControllerHorizon>,
    job: Option<Job>,
    failures: Vec<String>,
    gaps: Vec<f64>,
    scenario: String,
}

impl Default for HorizonPanel {
    fn default() -> Self {
        Self {
            cache: HashMap::new(),
            job: None,
            failures: Vec::new(),
            gaps: DEFAULT_GAPS.to_vec(),
            scenario: "memory_gap".into(),
        }
    }
}

/// The scenario the horizon is measured on: the lab's when it has a memory gap, else the
/// built-in `memory_gap`.
fn scenario(lab: &Lab) -> anyhow::Result<ScenarioSpec> {
    if lab.spec().memory_gap.is_some() {
        return Ok(lab.spec().clone());
    }
    match builtin("memory_gap") {
        Some(spec) => Ok(spec?),
        None => anyhow::bail!("the built-in scenario memory_gap is missing"),
    }
}

/// A measurement entry for `lane`, named `name`.
fn entry(lane: &Lane, name: String) -> Entry {
    let (kind, weights, factory, window_frames): (String, String, Factory, Option<usize>) =
        match &lane.driver {
            Driver::Learned {
                model,
                long_term,
                window_limit,
                ..
            } => {
                let (model, limit) = (model.clone(), *window_limit);
                let frames = limit.or(model.window());
                (
                    model.kind().as_str().to_owned(),
                    long_term.source.clone(),
                    Box::new(move || {
                        memdrive_sim::Pilot::Sensing(crate::learned::fresh_controller(
                            &model, limit,
                        ))
                    }),
                    frames,
                )
            }
            Driver::Expert(_) => (
                "expert".into(),
                "none".into(),
                Box::new(|| memdrive_sim::Pilot::Privileged(Box::new(Expert::new()))),
                None,
            ),
        };
    Entry {
        label: name,
        kind,
        weights,
        factory,
        memory_factory: None,
        window_frames,
    }
}

impl HorizonPanel {
    /// Takes in a finished measurement.
    pub fn poll(&mut self) {
        if let Some(job) = &self.job
            && let Ok(outcome) = job.rx.try_recv()
        {
            self.job = None;
            match outcome {
                Ok(curves) => self.cache.extend(curves),
                Err(e) => self
                    .failures
                    .push(format!("measuring the memory horizon: {e}")),
            }
        }
        // Curves are kept when their lane changes: they are small, and the same model or window
        // often comes back (the expert lane toggled, a window slid there and back).
    }

    /// Errors to show once.
    pub fn take_failures(&mut self) -> Vec<String> {
        std::mem::take(&mut self.failures)
    }

    /// Gaps measured so far and in all, while a measurement runs.
    pub fn progress(&self) -> Option<(usize, usize)> {
        self.job
            .as_ref()
            .map(|j| (j.done.load(Ordering::Relaxed), j.total))
    }

    /// Whether the measurement under way includes `key`.
    pub fn measuring(&self, key: HorizonKey) -> bool {
        self.job.as_ref().is_some_and(|j| j.keys.contains(&key))
    }

    /// The cached curve of `key`.
    pub fn curve(&self, key: HorizonKey) -> Option<&ControllerHorizon> {
        self.cache.get(&key)
    }

    /// The gaps measured (s).
    pub fn gaps(&self) -> &[f64] {
        &self.gaps
    }

    /// Measures, in the background on one thread, every lane whose curve is not cached; `wake`
    /// repaints after each gap. Returns false when nothing needed measuring or a measurement
    /// is running.
    pub fn start(&mut self, lab: &Lab, wake: impl Fn() + Send + 'static) -> bool {
        if self.job.is_some() {
            return false;
        }
        let mut keys = Vec::new();
        let mut entries = Vec::new();
        for (index, lane) in lab.lanes().iter().enumerate() {
            let key = HorizonKey::of(lane);
            if self.cache.contains_key(&key) || keys.contains(&key) {
                continue;
            }
            keys.push(key);
            entries.push(entry(lane, lane_name(lab, index)));
        }
        if entries.is_empty() {
            return false;
        }
        let spec = match scenario(lab) {
            Ok(spec) => spec,
            Err(e) => {
                self.failures
                    .push(format!("measuring the memory horizon: {e:#}"));
                return false;
            }
        };
        self.scenario.clone_from(&spec.name);
        let gaps = self.gaps.clone();
        let done = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = channel();
        self.job = Some(Job {
            rx,
            done: done.clone(),
            total: gaps.len(),
            keys: keys.clone(),
        });
        std::thread::spawn(move || {
            let work = || -> Result<Vec<(HorizonKey, ControllerHorizon)>, String> {
                let mut gap_done = || {
                    done.fetch_add(1, Ordering::Relaxed);
                    wake();
                };
                let report =
                    horizon::measure(&spec, &gaps, SEEDS, &entries, Some(1), &mut gap_done)
                        .map_err(|e| format!("{e:#}"))?;
                Ok(keys.into_iter().zip(report.controllers).collect())
            };
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work))
                .unwrap_or_else(|panic| Err(format!("failed: {}", panic_text(&panic))));
            // The app may have closed; then nobody needs the answer.
            let _ = tx.send(outcome);
        });
        true
    }
}

/// A lane's name in the panel: its kind (or the shipped weights it drives, "transformer64"),
/// numbered when another lane has the same kind, with a shrunk window or an ablation
/// ("transformer@8", "hebbian:no-plasticity").
fn lane_name(lab: &Lab, index: usize) -> String {
    let lane = &lab.lanes()[index];
    lab.numbered(
        index,
        &format!("{}{}", lane.controller_name(), lane.variant()),
    )
}

/// Draws the panel. Returns true when the user asked for a measurement.
pub fn ui(ui: &mut egui::Ui, panel: &HorizonPanel, lab: &Lab) -> bool {
    let mut run = false;
    ui.label(egui::RichText::new("Memory horizon").strong())
        .on_hover_text(format!(
            "How long each controller remembers, in driving. In {} a pedestrian is seen, then \
             hidden behind one of the vans for a gap; in half the seeds nobody is there. Accuracy \
             is the share of right calls: with the pedestrian, no collision; without, no \
             collision and well past the vans no later than the expert + 1 s. 0.5 is a guess, 1 \
             is perfect memory. The horizon is the longest gap up to which accuracy stays at least {BRIDGED}. {} \
             held-out seeds per gap; bands are 95% intervals.",
            panel.scenario,
            SEEDS.end - SEEDS.start
        ));
    let lanes: Vec<(String, HorizonKey, Option<&ControllerHorizon>)> = lab
        .lanes()
        .iter()
        .enumerate()
        .map(|(i, lane)| {
            let key = HorizonKey::of(lane);
            (lane_name(lab, i), key, panel.curve(key))
        })
        .collect();
    let missing = lanes.iter().filter(|(_, _, c)| c.is_none()).count();
    ui.horizontal(|ui| match panel.progress() {
        Some((done, total)) => {
            ui.add(
                egui::ProgressBar::new(done as f32 / total.max(1) as f32)
                    .desired_width(200.0)
                    .text(format!("measuring: gap {} of {total}", (done + 1).min(total))),
            );
        }
        None => {
            let label = match missing {
                0 => "Every lane measured".to_owned(),
                m if m == lanes.len() => "Measure memory horizon".to_owned(),
                m => format!("Measure {m} more"),
            };
            if ui
                .add_enabled(missing > 0, egui::Button::new(label))
                .on_hover_text("Drive every lane not measured yet through the memory-gap scenario at each gap, in the background (about 10 s)")
                .clicked()
            {
                run = true;
            }
        }
    });
    if lanes.iter().all(|(_, _, c)| c.is_none()) {
        return run;
    }
    let last_gap = panel.gaps().last().copied();
    for (i, (name, key, curve)) in lanes.iter().enumerate() {
        let what = match curve {
            Some(c) => {
                let mut what = match c.horizon_s {
                    // The longest gap measured bounds what can be said.
                    Some(h) if Some(h) == last_gap => format!("horizon at least {h} s"),
                    Some(h) => format!("horizon {h} s"),
                    None => "no gap bridged".to_owned(),
                };
                // Right where its window holds nothing of the pedestrian: not memory.
                if let (Some(w), false) = (c.window_s, c.bridged_beyond_window_s.is_empty()) {
                    what += &format!(
                        "; right beyond its {} s window too, so not from memory: the scenario lets a driver without memory be right",
                        memdrive_sim::scenario::compact(w)
                    );
                }
                what
            }
            None if panel.measuring(*key) => "measuring…".to_owned(),
            None => "not measured".to_owned(),
        };
        let text = format!("{name} ({}): {what}", MARKS[i % MARKS.len()]);
        ui.label(
            egui::RichText::new(text)
                .color(controller_color(name))
                .small(),
        );
    }
    // The expert's line is dashed, when the expert lane is shown and measured.
    let expert = lanes
        .iter()
        .any(|(_, key, curve)| *key == HorizonKey::Expert && curve.is_some());
    ui.label(
        egui::RichText::new(format!(
            "dotted lines: {BRIDGED} bridged, 0.5 a guess{}",
            if expert { "; dashed: the expert" } else { "" }
        ))
        .color(egui::Color32::GRAY)
        .small(),
    );
    let gaps = panel.gaps();
    let last = gaps.last().copied().unwrap_or(8.0);
    egui_plot::Plot::new("memory horizon")
        .height(170.0)
        .include_y(0.0)
        .include_y(1.0)
        .include_x(0.0)
        .include_x(last)
        .x_axis_label("pedestrian hidden for (s)")
        .y_axis_label("accuracy")
        .x_grid_spacer(egui_plot::uniform_grid_spacer(|_| [0.5, 1.0, 2.0]))
        // Hovering a point names the lane, the gap and the accuracy there.
        .label_formatter(|pos| match pos {
            egui_plot::HoverPosition::NearDataPoint {
                plot_name,
                position,
                ..
            } if plot_name.ends_with(" gaps") => Some(format!(
                "{}: hidden {} s, accuracy {:.2}",
                plot_name.trim_end_matches(" gaps"),
                position.x,
                position.y
            )),
            _ => None,
        })
        .allow_scroll(false)
        .show(ui, |plot| {
            for (level, name) in [(BRIDGED, "bridged"), (0.5, "a guess")] {
                plot.line(
                    egui_plot::Line::new(name, vec![[0.0, level], [last, level]])
                        .color(egui::Color32::GRAY)
                        .style(egui_plot::LineStyle::dotted_dense()),
                );
            }
            // Curves often coincide (two guessers at 0.5, two perfect memories at 1): each lane
            // has its own hollow marker, each smaller than the one before, so coinciding lanes
            // show as rings inside rings; the expert's line is dashed.
            for (i, (name, _, curve)) in lanes.iter().enumerate() {
                let Some(curve) = curve else { continue };
                let color = controller_color(name);
                // The band one trapezoid per pair of gaps: egui fills convex shapes only.
                for (g, ci) in gaps.windows(2).zip(curve.accuracy_ci.windows(2)) {
                    let quad = vec![
                        [g[0], ci[0][0]],
                        [g[1], ci[1][0]],
                        [g[1], ci[1][1]],
                        [g[0], ci[0][1]],
                    ];
                    plot.polygon(
                        egui_plot::Polygon::new(format!("{name} 95%"), quad)
                            .fill_color(color.gamma_multiply(0.15))
                            .stroke(egui::Stroke::NONE),
                    );
                }
                let points: Vec<[f64; 2]> = gaps
                    .iter()
                    .zip(&curve.accuracy)
                    .map(|(&g, &a)| [g, a])
                    .collect();
                let style = if name.starts_with("expert") {
                    egui_plot::LineStyle::dashed_loose()
                } else {
                    egui_plot::LineStyle::Solid
                };
                plot.line(
                    egui_plot::Line::new(name.clone(), points.clone())
                        .color(color)
                        .width(2.0)
                        .style(style),
                );
                plot.points(
                    egui_plot::Points::new(format!("{name} gaps"), points)
                        .color(color)
                        .shape(MARKERS[i % MARKERS.len()])
                        .filled(false)
                        .radius((7.5 - 1.5 * i as f32).max(2.0)),
                );
            }
        });
    run
}
