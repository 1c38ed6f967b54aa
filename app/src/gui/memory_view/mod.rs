//! The memory panel of one lane, drawn from `MemorySnapshot`s and the recorded history: what the
//! controller holds now, tier by tier, and what training left in its weights (long-term
//! memory). Nothing here knows a kind of network: each array is drawn by its shape and role —
//! a signed vector as a heatmap over time, activations as a grid now and over time, a gate as
//! the share kept per step, attention over frame ages with the window's frames beside it.

mod over_time;

use super::lab::{LaneFrame, LaneKind, LongTermMemory};
use super::paint::{diverging, heatmap, sequential, still_plot, strip};
use egui::{Align2, Color32, FontId, Pos2, Rect, Stroke, TextureHandle, Vec2};
use memdrive_models::snapshot::{Array, MemorySnapshot, Role, TierKind};
use memdrive_sim::World;
use over_time::{activity_ui, kept_ui, over_time_ui, signed_scalar_ui};

/// Steps of history the heatmaps over time show.
pub const HISTORY_STEPS: usize = 100;

/// Activations longer than this are shown as their busiest units over time.
const BUSIEST: usize = 48;

/// One lane's memory panel inputs.
pub struct MemoryInputs<'a> {
    /// Which controller.
    pub kind: LaneKind,
    /// Up to `HISTORY_STEPS` recorded frames of this lane, oldest first, ending at the viewed
    /// step.
    pub recent: Vec<&'a LaneFrame>,
    /// The weights, for learned lanes.
    pub long_term: Option<&'a LongTermMemory>,
    /// Steps at which the user pressed Forget.
    pub forgotten_at: &'a [u32],
    /// Steps at which a memory was transplanted in.
    pub transplanted_at: &'a [u32],
    /// The frames a windowed controller looks back over now (shrunk at run time, or as trained).
    pub window: Option<usize>,
}

impl MemoryInputs<'_> {
    fn now(&self) -> Option<&LaneFrame> {
        self.recent.last().copied()
    }

    /// The array called `name` in each recent frame, oldest first (`None` where a frame has
    /// none), placed in the last columns of `HISTORY_STEPS`.
    fn history(&self, name: &str) -> Vec<Option<&[f32]>> {
        let mut columns = vec![None; HISTORY_STEPS.saturating_sub(self.recent.len())];
        columns.extend(self.recent.iter().map(|f| {
            f.memory
                .as_ref()
                .and_then(|m| m.array(name))
                .map(|a| a.data.as_slice())
        }));
        columns
    }
}

/// A cached texture of a lane's weight matrix, remade when the weights change.
#[derive(Default)]
pub struct WeightTexture {
    key: usize,
    texture: Option<TextureHandle>,
}

fn tier_heading(ui: &mut egui::Ui, tier: TierKind) {
    ui.label(egui::RichText::new(tier.title()).strong())
        .on_hover_text(tier.about());
}

/// Draws the panel.
pub fn ui(ui: &mut egui::Ui, inputs: &MemoryInputs<'_>, weights: &mut WeightTexture) {
    let Some(now) = inputs.now() else {
        return;
    };
    match (&now.memory, inputs.kind) {
        (_, LaneKind::Expert) => expert_ui(ui, &now.world),
        (Some(snapshot), _) => snapshot_ui(ui, inputs, snapshot),
        (None, _) => {
            ui.label("episode over: nothing more is read");
        }
    }
    if let Some(long_term) = inputs.long_term {
        ui.separator();
        long_term_ui(ui, long_term, weights);
    }
}

/// Every tier of `snapshot`, each array in the view its shape and role call for.
fn snapshot_ui(ui: &mut egui::Ui, inputs: &MemoryInputs<'_>, snapshot: &MemorySnapshot) {
    for tier in &snapshot.tiers {
        tier_heading(ui, tier.kind);
        if let Some(note) = tier.note {
            ui.label(note);
        }
        for array in &tier.arrays {
            match (array.role, array.axes.len()) {
                (Role::Attention, 2) => {
                    attention_ui(ui, inputs, array);
                    window_frames_ui(ui, inputs, array.axes[1].len);
                }
                (Role::Kept, 1) => kept_ui(ui, inputs, array),
                (Role::Bars, 1) => bars_ui(ui, array),
                (Role::OverTime, 1) if array.signed && array.axes[0].len == 1 => {
                    signed_scalar_ui(ui, inputs, array)
                }
                (Role::OverTime, 1) => over_time_ui(ui, inputs, array),
                (_, 1) if array.signed => over_time_ui(ui, inputs, array),
                (Role::State, 1) => activity_ui(ui, inputs, array),
                (_, 1) => now_ui(ui, array),
                (_, 2) => matrix_ui(ui, array),
                _ => {}
            }
        }
    }
}

fn expert_ui(ui: &mut egui::Ui, world: &World) {
    ui.label(egui::RichText::new("Perfect memory (privileged)").strong())
        .on_hover_text("The expert acts on every actor its sensors ever saw, with its true motion: the upper bound of what memory can do.");
    let truth = world.truth();
    let remembered: Vec<String> = world
        .actors()
        .iter()
        .enumerate()
        .filter(|(_, a)| a.active)
        .filter_map(|(i, a)| {
            truth.time_since_seen_s(i).map(|s| {
                if s == 0.0 {
                    format!("{:?} #{i}: seen now", a.kind)
                } else {
                    format!("{:?} #{i}: remembered, last seen {s:.1} s ago", a.kind)
                }
            })
        })
        .collect();
    let n = remembered.len();
    ui.label(format!(
        "{n} {} remembered",
        if n == 1 { "actor" } else { "actors" }
    ));
    for line in remembered.iter().take(8) {
        ui.small(line);
    }
}

/// A vector as bars, one per element in its order, with its axis and unit.
fn bars_ui(ui: &mut egui::Ui, array: &Array) {
    let axis = array.axes[0];
    ui.small(format!(
        "{}: one bar per {}{}",
        array.label,
        axis.name,
        if axis.unit.is_empty() {
            String::new()
        } else {
            format!(" ({})", axis.unit)
        }
    ));
    let bars: Vec<egui_plot::Bar> = array
        .data
        .iter()
        .enumerate()
        .map(|(i, &v)| egui_plot::Bar::new(i as f64, f64::from(v)).width(0.8))
        .collect();
    still_plot(ui.scope_id().with(array.name), 60.0)
        .show_axes([false, true])
        .show(ui, |plot| {
            plot.bar_chart(egui_plot::BarChart::new(array.label, bars));
        });
}

/// Any other vector, as a strip of its values now.
fn now_ui(ui: &mut egui::Ui, array: &Array) {
    ui.small(format!("{} now, per {}", array.label, array.axes[0].name));
    let (response, painter) = strip(ui, 8.0, &format!("{} now", array.label));
    let values = &array.data;
    heatmap(&painter, response.rect, 1, values.len().max(1), |_, c| {
        values.get(c).map_or(Color32::TRANSPARENT, |&v| {
            if array.signed {
                diverging(v)
            } else {
                sequential(v)
            }
        })
    });
}

/// A matrix now, as a heatmap scaled to its largest value.
fn matrix_ui(ui: &mut egui::Ui, array: &Array) {
    let [rows, cols] = [array.axes[0], array.axes[1]];
    let unit = |a: &memdrive_models::snapshot::Axis| {
        if a.unit.is_empty() {
            a.name.to_owned()
        } else {
            format!("{} ({})", a.name, a.unit)
        }
    };
    ui.small(format!(
        "{}: {} (rows) × {} (columns)",
        array.label,
        unit(&rows),
        unit(&cols)
    ));
    let scale = array
        .data
        .iter()
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(1e-6);
    let (response, painter) = strip(ui, (3.0 * rows.len as f32).clamp(24.0, 96.0), array.label);
    heatmap(&painter, response.rect, rows.len, cols.len, |r, c| {
        let v = array.row(r).get(c).copied().unwrap_or(0.0) / scale;
        if array.signed {
            diverging(v)
        } else {
            sequential(v)
        }
    });
}

/// Attention of each head over the frames held, by age (now at the left), each row scaled to
/// its peak, over a grid as wide as the window.
fn attention_ui(ui: &mut egui::Ui, inputs: &MemoryInputs<'_>, array: &Array) {
    let (heads, held) = (array.axes[0].len, array.axes[1].len);
    let window = window_of(inputs, held);
    ui.small(format!(
        "{} of each head over the {} in the window (age grows to the right; now at left; each row scaled to its peak)",
        array.label,
        match held {
            1 => "1 frame".to_owned(),
            n => format!("{n} frames"),
        }
    ));
    let label_w = 46.0;
    let (response, painter) = strip(
        ui,
        16.0 * heads.max(1) as f32 + 14.0,
        "Attention by head and frame age",
    );
    let rect = response.rect;
    let grid = Rect::from_min_max(
        Pos2::new(rect.min.x + label_w, rect.min.y),
        Pos2::new(rect.max.x, rect.max.y - 14.0),
    );
    // Each head's row is scaled to its own largest weight, so where it looks shows even when
    // it spreads its attention thinly.
    let peaks: Vec<f32> = (0..heads)
        .map(|h| array.row(h).iter().fold(0.0f32, |m, &w| m.max(w)).max(1e-6))
        .collect();
    heatmap(&painter, grid, heads, window, |h, age| {
        array
            .row(h)
            .get(age)
            .map_or(Color32::from_gray(20), |&w| sequential(w / peaks[h]))
    });
    for h in 0..heads {
        painter.text(
            Pos2::new(
                rect.min.x,
                grid.min.y + (h as f32 + 0.5) * grid.height() / heads as f32,
            ),
            Align2::LEFT_CENTER,
            format!("head {h}"),
            FontId::proportional(10.0),
            ui.visuals().text_color(),
        );
    }
    // The newest at the left edge, the oldest at the right, each inside the grid so neither is
    // clipped; a window of one frame has only "now".
    let mut ends = vec![(grid.min.x, Align2::LEFT_TOP, "now".to_owned())];
    if window > 1 {
        let oldest = format!("-{:.1} s", (window - 1) as f64 * 0.1);
        ends.push((grid.max.x, Align2::RIGHT_TOP, oldest));
    }
    for (x, align, text) in ends {
        painter.text(
            Pos2::new(x, grid.max.y + 1.0),
            align,
            text,
            FontId::proportional(10.0),
            ui.visuals().text_color(),
        );
    }
}

/// The frames a windowed controller looks back over now.
fn window_of(inputs: &MemoryInputs<'_>, held: usize) -> usize {
    inputs
        .window
        .or(inputs.long_term.and_then(|l| l.window))
        .unwrap_or(held)
        .max(1)
}

/// The window's frames as what the lidar saw in each (beam rows, age columns), and the frame
/// that fell out this step.
fn window_frames_ui(ui: &mut egui::Ui, inputs: &MemoryInputs<'_>, held: usize) {
    let window = window_of(inputs, held);
    let label_w = 46.0;
    ui.small(
        "The window's frames: lidar distance per beam (rows), age grows to the right; the last column fell out this step",
    );
    let (response, painter) = strip(ui, 64.0, "Window frames");
    let rect = response.rect;
    let grid = Rect::from_min_max(Pos2::new(rect.min.x + label_w, rect.min.y), rect.max);
    let columns = window + 1;
    let frames = &inputs.recent;
    let beams = frames.last().map_or(0, |f| f.world.lidar().beams());
    let range = frames.last().map_or(1.0, |f| f.world.lidar().range_m()) as f32;
    // Frames this old or older came with a memory transplanted in: the controller holds them
    // (as tokens), but this world never saw them, so there is nothing of its own to draw.
    let transplanted = frames.last().and_then(|f| {
        let now = f.world.steps();
        inputs
            .transplanted_at
            .iter()
            .filter(|&&s| s <= now)
            .max()
            .map(|&s| (now - s) as usize)
    });
    let from_donor = |age: usize| transplanted.is_some_and(|t| age >= t);
    heatmap(&painter, grid, beams, columns, |b, age| {
        let in_window = age < held;
        let frame = frames
            .len()
            .checked_sub(age + 1)
            .and_then(|i| frames.get(i));
        match frame {
            _ if in_window && from_donor(age) => TRANSPLANTED,
            Some(f) if in_window || age == window => {
                let near = 1.0 - f.world.observation().ray_distance_m(b) / range;
                let c = sequential(near);
                if in_window { c } else { c.gamma_multiply(0.35) }
            }
            _ => Color32::from_gray(20),
        }
    });
    let cell = grid.width() / columns as f32;
    let gone = Rect::from_min_size(
        Pos2::new(grid.min.x + window as f32 * cell, grid.min.y),
        Vec2::new(cell, grid.height()),
    );
    let fell_out = frames.len() > window && held == window;
    if fell_out {
        painter.line_segment(
            [gone.left_top(), gone.right_bottom()],
            Stroke::new(1.5, Color32::from_rgb(255, 90, 90)),
        );
        painter.line_segment(
            [gone.right_top(), gone.left_bottom()],
            Stroke::new(1.5, Color32::from_rgb(255, 90, 90)),
        );
    }
    painter.text(
        rect.left_center(),
        Align2::LEFT_CENTER,
        "frames",
        FontId::proportional(10.0),
        ui.visuals().text_color(),
    );
    if fell_out {
        ui.small(format!(
            "forgotten this step: the frame from {:.1} s ago",
            window as f64 * 0.1
        ));
    }
    if let Some(t) = transplanted.filter(|&t| t < held) {
        ui.small(
            egui::RichText::new(format!(
                "violet: the {} oldest frames came with the transplanted memory (held, but never seen in this world)",
                held - t
            ))
            .color(TRANSPLANTED.gamma_multiply(2.5)),
        );
    }
}

/// The colour of window frames that came with a transplanted memory.
const TRANSPLANTED: Color32 = Color32::from_rgb(70, 45, 95);

fn long_term_ui(ui: &mut egui::Ui, long_term: &LongTermMemory, weights: &mut WeightTexture) {
    tier_heading(ui, TierKind::LongTerm);
    ui.small(format!(
        "{} parameters · {}",
        long_term.parameters, long_term.source
    ));
    let bars: Vec<egui_plot::Bar> = long_term
        .histogram
        .iter()
        .map(|&(x, count)| egui_plot::Bar::new(x, count).width(long_term.bin_width))
        .collect();
    still_plot(ui.scope_id().with("weights histogram"), 60.0)
        .show_axes([true, false])
        .show(ui, |plot| {
            plot.bar_chart(egui_plot::BarChart::new("weights", bars));
        });
    let (name, rows, cols, data) = &long_term.matrix;
    let key = std::ptr::from_ref(long_term) as usize;
    if weights.key != key || weights.texture.is_none() {
        let scale = data.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-6);
        let pixels: Vec<Color32> = data.iter().map(|v| diverging(v / scale)).collect();
        if pixels.len() == rows * cols && !pixels.is_empty() {
            let image = egui::ColorImage::new([*cols, *rows], pixels);
            weights.texture = Some(ui.ctx().load_texture(
                format!("weights {name} {key}"),
                image,
                egui::TextureOptions::NEAREST,
            ));
            weights.key = key;
        }
    }
    if let Some(texture) = &weights.texture {
        ui.small(format!("{name} [{rows} × {cols}]"));
        let width = ui.available_width();
        // Stretched to the panel's width: the pattern matters here, not square cells.
        let height = (width * *rows as f32 / (*cols).max(1) as f32).clamp(40.0, 110.0);
        ui.add(
            egui::Image::new(texture)
                .maintain_aspect_ratio(false)
                .fit_to_exact_size(Vec2::new(width, height)),
        )
        .on_hover_text(format!("{name}: every weight, blue < 0 < orange"));
    }
}
