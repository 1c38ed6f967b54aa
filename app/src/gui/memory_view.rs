//! The memory panel of one lane, drawn from `MemorySnapshot`s and the recorded history: what the
//! controller holds now (short-term or working memory) and what training left in its weights
//! (long-term memory).

use super::lab::{LaneFrame, LaneKind, LongTermMemory};
use super::paint::{diverging, heatmap, sequential, strip};
use egui::{Align2, Color32, FontId, Pos2, Rect, Stroke, TextureHandle, Vec2};
use memdrive_models::MemorySnapshot;
use memdrive_sim::World;

/// Steps of history the GRU and RBF heatmaps show.
pub const HISTORY_STEPS: usize = 100;

/// The tier names the design uses, with their one-sentence explanations.
pub const LONG_TERM: (&str, &str) = (
    "Long-term memory (weights)",
    "What training stored in the weights: the same at every step, and Forget does not touch it.",
);
/// Short-term memory: the recurrent state.
pub const SHORT_TERM: (&str, &str) = (
    "Short-term memory (state)",
    "Numbers carried from one step to the next; each step the update gate decides how much of them is kept.",
);
/// Working memory: the context window.
pub const WORKING: (&str, &str) = (
    "Working memory (context window)",
    "The last K frames, read exactly; a frame older than K steps is gone at once.",
);

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
    /// A transformer's window now (shrunk at run time, or as trained).
    pub window: Option<usize>,
}

impl MemoryInputs<'_> {
    fn now(&self) -> Option<&LaneFrame> {
        self.recent.last().copied()
    }
}

/// A cached texture of a lane's weight matrix, remade when the weights change.
#[derive(Default)]
pub struct WeightTexture {
    key: usize,
    texture: Option<TextureHandle>,
}

fn tier_heading(ui: &mut egui::Ui, tier: (&str, &str)) {
    ui.label(egui::RichText::new(tier.0).strong())
        .on_hover_text(tier.1);
}

/// Draws the panel.
pub fn ui(ui: &mut egui::Ui, inputs: &MemoryInputs<'_>, weights: &mut WeightTexture) {
    let Some(now) = inputs.now() else {
        return;
    };
    match (&now.memory, inputs.kind) {
        (_, LaneKind::Expert) => expert_ui(ui, &now.world),
        (Some(MemorySnapshot::Rbf { activations }), _) => rbf_ui(ui, inputs, activations),
        (Some(MemorySnapshot::Gru { hidden, .. }), _) => gru_ui(ui, inputs, hidden.len()),
        (
            Some(MemorySnapshot::Transformer {
                ages, attention, ..
            }),
            _,
        ) => {
            transformer_ui(ui, inputs, ages, attention);
        }
        (None, _) => {
            ui.label("episode over: nothing more is read");
        }
    }
    if let Some(long_term) = inputs.long_term {
        ui.separator();
        long_term_ui(ui, long_term, weights);
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

fn rbf_ui(ui: &mut egui::Ui, inputs: &MemoryInputs<'_>, activations: &[f32]) {
    tier_heading(ui, SHORT_TERM);
    ui.label("none: nothing is carried from one step to the next (0 numbers)");
    ui.small(format!(
        "Activation of each of the {} units now",
        activations.len()
    ));
    let cols = 32;
    let rows = activations.len().div_ceil(cols);
    let (response, painter) = strip(ui, 6.0 * rows as f32, "RBF activations now");
    heatmap(&painter, response.rect, rows, cols, |r, c| {
        activations
            .get(r * cols + c)
            .map_or(Color32::TRANSPARENT, |&a| sequential(a))
    });
    let mut order: Vec<usize> = (0..activations.len()).collect();
    order.sort_by(|&a, &b| activations[b].total_cmp(&activations[a]));
    let top: Vec<String> = order
        .iter()
        .take(5)
        .map(|&u| format!("#{u} {:.2}", activations[u]))
        .collect();
    ui.small(format!("firing most: {}", top.join(", ")));
    // The same units over time: every column depends on its own frame only.
    let shown = 48;
    let mut mean = vec![0.0f32; activations.len()];
    for frame in &inputs.recent {
        if let Some(MemorySnapshot::Rbf { activations }) = &frame.memory {
            for (m, a) in mean.iter_mut().zip(activations) {
                *m += a;
            }
        }
    }
    let mut busiest: Vec<usize> = (0..mean.len()).collect();
    busiest.sort_by(|&a, &b| mean[b].total_cmp(&mean[a]));
    busiest.truncate(shown);
    ui.small(format!(
        "The {shown} busiest units over the last {} steps (time runs left to right): each column is its own frame",
        inputs.recent.len()
    ));
    let (response, painter) = strip(ui, 70.0, "RBF activations over time");
    let frames = &inputs.recent;
    heatmap(
        &painter,
        response.rect,
        busiest.len(),
        HISTORY_STEPS,
        |r, c| {
            let offset = HISTORY_STEPS - frames.len();
            match c
                .checked_sub(offset)
                .and_then(|i| frames.get(i))
                .and_then(|f| f.memory.as_ref())
            {
                Some(MemorySnapshot::Rbf { activations }) => sequential(activations[busiest[r]]),
                _ => Color32::TRANSPARENT,
            }
        },
    );
}

fn gru_ui(ui: &mut egui::Ui, inputs: &MemoryInputs<'_>, units: usize) {
    tier_heading(ui, SHORT_TERM);
    ui.small(format!(
        "Hidden state, {units} units (rows) over the last {} steps (time runs left to right); blue < 0 < orange",
        inputs.recent.len()
    ));
    let (response, painter) = strip(ui, 2.0 * units as f32, "GRU hidden state over time");
    let frames = &inputs.recent;
    let offset = HISTORY_STEPS.saturating_sub(frames.len());
    heatmap(
        &painter,
        response.rect,
        units,
        HISTORY_STEPS,
        |r, c| match c
            .checked_sub(offset)
            .and_then(|i| frames.get(i))
            .and_then(|f| f.memory.as_ref())
        {
            Some(MemorySnapshot::Gru { hidden, .. }) => {
                diverging(hidden.get(r).copied().unwrap_or(0.0))
            }
            _ => Color32::TRANSPARENT,
        },
    );
    forget_marks(&painter, response.rect, inputs, offset);
    let kept: Vec<[f64; 2]> = frames
        .iter()
        .enumerate()
        .filter_map(|(i, f)| match &f.memory {
            Some(MemorySnapshot::Gru { update_gate, .. }) if !update_gate.is_empty() => {
                let mean = update_gate.iter().sum::<f32>() / update_gate.len() as f32;
                Some([(i as f64) - (frames.len() as f64 - 1.0), f64::from(mean)])
            }
            _ => None,
        })
        .collect();
    if let Some(last) = kept.last() {
        ui.small(format!("share kept per step (mean update gate): {:.2} now", last[1]))
            .on_hover_text("z in h' = z·h + (1 - z)·candidate: how much of each unit's old value survives one step");
    }
    egui_plot::Plot::new(ui.scope_id().with("kept"))
        .height(70.0)
        .include_y(0.0)
        .include_y(1.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
        .show_axes([false, true])
        .show(ui, |plot| {
            plot.line(egui_plot::Line::new("share kept", kept));
        });
}

fn forget_marks(painter: &egui::Painter, rect: Rect, inputs: &MemoryInputs<'_>, offset: usize) {
    let Some(first) = inputs.recent.first().map(|f| f.world.steps()) else {
        return;
    };
    let cell = rect.width() / HISTORY_STEPS as f32;
    for &step in inputs.forgotten_at {
        if let Some(i) = step.checked_sub(first).map(|d| d as usize + offset)
            && i < HISTORY_STEPS
        {
            let x = rect.min.x + (i as f32 + 0.5) * cell;
            painter.line_segment(
                [Pos2::new(x, rect.min.y), Pos2::new(x, rect.max.y)],
                Stroke::new(1.5, Color32::WHITE),
            );
            painter.text(
                Pos2::new(x + 2.0, rect.min.y),
                Align2::LEFT_TOP,
                "forget",
                FontId::proportional(10.0),
                Color32::WHITE,
            );
        }
    }
}

fn transformer_ui(
    ui: &mut egui::Ui,
    inputs: &MemoryInputs<'_>,
    ages: &[u32],
    attention: &[Vec<f32>],
) {
    tier_heading(ui, WORKING);
    let window = inputs
        .window
        .or(inputs.long_term.and_then(|l| l.window))
        .unwrap_or(ages.len())
        .max(1);
    ui.small(format!(
        "Attention of each head over the {} in the window (age grows to the right; now at left; each row scaled to its peak)",
        match ages.len() {
            1 => "1 frame".to_owned(),
            n => format!("{n} frames"),
        }
    ));
    let heads = attention.len();
    let label_w = 46.0;
    let (response, painter) = strip(
        ui,
        16.0 * heads.max(1) as f32 + 14.0,
        "Transformer attention by head and frame age",
    );
    let rect = response.rect;
    let grid = Rect::from_min_max(
        Pos2::new(rect.min.x + label_w, rect.min.y),
        Pos2::new(rect.max.x, rect.max.y - 14.0),
    );
    // Column = age; ages are stored oldest first.
    // Each head's row is scaled to its own largest weight, so where it looks shows even when
    // it spreads its attention thinly.
    let peaks: Vec<f32> = attention
        .iter()
        .map(|row| row.iter().fold(0.0f32, |m, &w| m.max(w)).max(1e-6))
        .collect();
    heatmap(&painter, grid, heads, window, |h, age| {
        ages.iter()
            .position(|&a| a as usize == age)
            .and_then(|i| attention.get(h).and_then(|row| row.get(i)))
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
    for (age, text) in [
        (0, "now".to_owned()),
        (window - 1, format!("-{:.1} s", (window - 1) as f64 * 0.1)),
    ] {
        let x = grid.min.x + (age as f32 + 0.5) * grid.width() / window as f32;
        painter.text(
            Pos2::new(x, grid.max.y + 1.0),
            Align2::CENTER_TOP,
            text,
            FontId::proportional(10.0),
            ui.visuals().text_color(),
        );
    }
    // The window's frames as what the lidar saw in each (beam rows, age columns), and the frame
    // that fell out this step.
    ui.small(
        "The window's frames: lidar distance per beam (rows), age grows to the right; the last column fell out this step",
    );
    let (response, painter) = strip(ui, 64.0, "Transformer window frames");
    let rect = response.rect;
    let grid = Rect::from_min_max(Pos2::new(rect.min.x + label_w, rect.min.y), rect.max);
    let columns = window + 1;
    let frames = &inputs.recent;
    let beams = frames.last().map_or(0, |f| f.world.lidar().beams());
    let range = frames.last().map_or(1.0, |f| f.world.lidar().range_m()) as f32;
    heatmap(&painter, grid, beams, columns, |b, age| {
        let in_window = ages.iter().any(|&a| a as usize == age);
        let frame = frames
            .len()
            .checked_sub(age + 1)
            .and_then(|i| frames.get(i));
        match frame {
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
    if frames.len() > window && ages.len() == window {
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
    if frames.len() > window && ages.len() == window {
        ui.small(format!(
            "forgotten this step: the frame from {:.1} s ago",
            window as f64 * 0.1
        ));
    }
}

fn long_term_ui(ui: &mut egui::Ui, long_term: &LongTermMemory, weights: &mut WeightTexture) {
    tier_heading(ui, LONG_TERM);
    ui.small(format!(
        "{} parameters · {}",
        long_term.parameters, long_term.source
    ));
    let bars: Vec<egui_plot::Bar> = long_term
        .histogram
        .iter()
        .map(|&(x, count)| egui_plot::Bar::new(x, count).width(long_term.bin_width))
        .collect();
    egui_plot::Plot::new(ui.scope_id().with("weights histogram"))
        .height(60.0)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
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
