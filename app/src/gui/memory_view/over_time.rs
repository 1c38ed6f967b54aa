//! The views of a memory over time: a vector as a heatmap of its last steps, the busiest
//! units, a gate's share kept, a signed number as bars, with the Forget presses and
//! transplants marked on each.

use super::*;

/// The steps of the Forget presses and transplants, each with its label and colour.
fn marks<'a>(
    inputs: &'a MemoryInputs<'_>,
) -> impl Iterator<Item = (u32, &'static str, Color32)> + 'a {
    let forgets = inputs
        .forgotten_at
        .iter()
        .map(|&s| (s, "forget", Color32::WHITE));
    let transplants = inputs
        .transplanted_at
        .iter()
        .map(|&s| (s, "transplant", Color32::from_rgb(255, 210, 80)));
    forgets.chain(transplants)
}

/// A vector (a hidden state) over the last steps: one row per element, time left to right,
/// with the Forget presses marked; a signed one blue < 0 < orange, an unsigned one scaled to
/// its largest value on show.
pub(super) fn over_time_ui(ui: &mut egui::Ui, inputs: &MemoryInputs<'_>, array: &Array) {
    let axis = array.axes[0];
    let colours = if array.signed {
        "blue < 0 < orange"
    } else {
        "dark 0, bright the largest on show"
    };
    ui.small(format!(
        "{}, {} {}s (rows) over the last {} steps (time runs left to right); {colours}",
        array.label,
        axis.len,
        axis.name,
        inputs.recent.len()
    ));
    let columns = inputs.history(array.name);
    let peak = columns
        .iter()
        .flatten()
        .flat_map(|v| v.iter())
        .fold(0.0f32, |m, v| m.max(v.abs()))
        .max(1e-6);
    let colour = |v: f32| {
        if array.signed {
            diverging(v)
        } else {
            sequential(v / peak)
        }
    };
    let (response, painter) = strip(
        ui,
        (2.0 * axis.len as f32).clamp(24.0, 160.0),
        &format!("{} over time", array.label),
    );
    heatmap(
        &painter,
        response.rect,
        axis.len,
        HISTORY_STEPS,
        |r, c| match columns[c] {
            Some(v) => colour(v.get(r).copied().unwrap_or(0.0)),
            None => Color32::TRANSPARENT,
        },
    );
    let offset = HISTORY_STEPS.saturating_sub(inputs.recent.len());
    forget_marks(&painter, response.rect, inputs, offset);
}

/// Activations in [0, 1] (what responds to the frame now): all of them now as a grid, the five
/// strongest, and the busiest over the last steps, where every column is its own frame.
pub(super) fn activity_ui(ui: &mut egui::Ui, inputs: &MemoryInputs<'_>, array: &Array) {
    let values = &array.data;
    let axis = array.axes[0];
    ui.small(format!(
        "{}: each of the {} {}s",
        array.label,
        values.len(),
        axis.name
    ));
    let cols = 32;
    let rows = values.len().div_ceil(cols);
    let (response, painter) = strip(ui, 6.0 * rows as f32, array.label);
    heatmap(&painter, response.rect, rows, cols, |r, c| {
        values
            .get(r * cols + c)
            .map_or(Color32::TRANSPARENT, |&a| sequential(a))
    });
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let top: Vec<String> = order
        .iter()
        .take(5)
        .map(|&u| format!("#{u} {:.2}", values[u]))
        .collect();
    ui.small(format!("firing most: {}", top.join(", ")));
    let columns = inputs.history(array.name);
    let mut mean = vec![0.0f32; values.len()];
    for column in columns.iter().flatten() {
        for (m, a) in mean.iter_mut().zip(*column) {
            *m += a;
        }
    }
    let mut busiest: Vec<usize> = (0..mean.len()).collect();
    busiest.sort_by(|&a, &b| mean[b].total_cmp(&mean[a]));
    busiest.truncate(BUSIEST);
    ui.small(format!(
        "The {} busiest {}s over the last {} steps (time runs left to right): each column is its own frame",
        busiest.len(),
        axis.name,
        inputs.recent.len()
    ));
    let (response, painter) = strip(ui, 70.0, &format!("{} over time", array.label));
    heatmap(
        &painter,
        response.rect,
        busiest.len(),
        HISTORY_STEPS,
        |r, c| match columns[c] {
            Some(v) => v
                .get(busiest[r])
                .map_or(Color32::TRANSPARENT, |&a| sequential(a)),
            None => Color32::TRANSPARENT,
        },
    );
}

/// A gate: the mean share of the old state kept per step, now and over the last steps.
pub(super) fn kept_ui(ui: &mut egui::Ui, inputs: &MemoryInputs<'_>, array: &Array) {
    let columns = inputs.history(array.name);
    let offset = columns.len() - inputs.recent.len();
    let kept: Vec<[f64; 2]> = columns[offset..]
        .iter()
        .enumerate()
        .filter_map(|(i, column)| {
            let v = (*column)?;
            (!v.is_empty()).then(|| {
                let mean = v.iter().sum::<f32>() / v.len() as f32;
                [
                    (i as f64) - (inputs.recent.len() as f64 - 1.0),
                    f64::from(mean),
                ]
            })
        })
        .collect();
    if let Some(last) = kept.last() {
        ui.small(format!(
            "share kept per step (mean {}): {:.2} now",
            array.label, last[1]
        ))
        .on_hover_text(
            "z in h' = z·h + (1 - z)·candidate: how much of each unit's old value survives one step",
        );
    }
    still_plot(ui.scope_id().with(array.name), 70.0)
        .include_y(0.0)
        .include_y(1.0)
        .show_axes([false, true])
        .show(ui, |plot| {
            plot.line(egui_plot::Line::new("share kept", kept));
        });
}

/// A signed number over the last steps, one bar per step: orange above zero, blue below (a
/// neuromodulator's potentiation and depression), with its value now.
pub(super) fn signed_scalar_ui(ui: &mut egui::Ui, inputs: &MemoryInputs<'_>, array: &Array) {
    let columns = inputs.history(array.name);
    let offset = columns.len() - inputs.recent.len();
    let newest = inputs.recent.len() as f64 - 1.0;
    let bars: Vec<egui_plot::Bar> = columns[offset..]
        .iter()
        .enumerate()
        .filter_map(|(i, column)| {
            let v = *(*column)?.first()?;
            Some(
                egui_plot::Bar::new(i as f64 - newest, f64::from(v))
                    .width(1.0)
                    .fill(diverging(v.signum())),
            )
        })
        .collect();
    // Forget and transplant presses, where they fall among the bars.
    let first = inputs.recent.first().map(|f| f.world.steps());
    let marks: Vec<egui_plot::VLine> = marks(inputs)
        .filter_map(|(step, label, colour)| {
            let age = step.checked_sub(first?)?;
            let x = f64::from(age) - newest;
            (x <= 0.0).then(|| egui_plot::VLine::new(label, x).stroke(Stroke::new(1.5, colour)))
        })
        .collect();
    let now = array.data.first().copied().unwrap_or(0.0);
    ui.small(format!(
        "{} over the last {} steps (newest at the right): {now:+.2} now",
        array.label,
        inputs.recent.len()
    ));
    still_plot(ui.scope_id().with(array.name), 60.0)
        .include_y(-1.0)
        .include_y(1.0)
        .include_x(-(HISTORY_STEPS as f64) + 1.0)
        .include_x(0.0)
        .show_axes([false, true])
        .show(ui, |plot| {
            plot.bar_chart(egui_plot::BarChart::new(array.label, bars));
            for mark in marks {
                plot.vline(mark);
            }
        });
}

/// The Forget presses and transplants on a heatmap over time, each a labelled line.
fn forget_marks(painter: &egui::Painter, rect: Rect, inputs: &MemoryInputs<'_>, offset: usize) {
    let Some(first) = inputs.recent.first().map(|f| f.world.steps()) else {
        return;
    };
    let cell = rect.width() / HISTORY_STEPS as f32;
    for (step, label, colour) in marks(inputs) {
        if let Some(i) = step.checked_sub(first).map(|d| d as usize + offset)
            && i < HISTORY_STEPS
        {
            let x = rect.min.x + (i as f32 + 0.5) * cell;
            painter.line_segment(
                [Pos2::new(x, rect.min.y), Pos2::new(x, rect.max.y)],
                Stroke::new(1.5, colour),
            );
            painter.text(
                Pos2::new(x + 2.0, rect.min.y),
                Align2::LEFT_TOP,
                label,
                FontId::proportional(10.0),
                colour,
            );
        }
    }
}
