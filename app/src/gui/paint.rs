//! Small drawing helpers shared by the views: colour maps and heatmaps built as one mesh.

use egui::{Color32, Mesh, Painter, Pos2, Rect, Vec2};

/// Colour of a value in 0..1 on a perceptually ordered dark-to-bright map (after viridis).
pub fn sequential(value: f32) -> Color32 {
    const STOPS: [[f32; 3]; 5] = [
        [68.0, 1.0, 84.0],
        [59.0, 82.0, 139.0],
        [33.0, 145.0, 140.0],
        [94.0, 201.0, 98.0],
        [253.0, 231.0, 37.0],
    ];
    let v = if value.is_finite() {
        value.clamp(0.0, 1.0)
    } else {
        0.0
    };
    let x = v * (STOPS.len() - 1) as f32;
    let i = (x.floor() as usize).min(STOPS.len() - 2);
    let t = x - i as f32;
    let c = |k: usize| (STOPS[i][k] + t * (STOPS[i + 1][k] - STOPS[i][k])) as u8;
    Color32::from_rgb(c(0), c(1), c(2))
}

/// Colour of a value in -1..1: blue below zero, orange above, dark at zero.
pub fn diverging(value: f32) -> Color32 {
    let v = if value.is_finite() {
        value.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    let base = [30.0f32, 30.0, 36.0];
    let target = if v < 0.0 {
        [70.0, 150.0, 255.0]
    } else {
        [255.0, 150.0, 40.0]
    };
    let t = v.abs();
    let c = |k: usize| (base[k] + t * (target[k] - base[k])) as u8;
    Color32::from_rgb(c(0), c(1), c(2))
}

/// Fills `rect` with a `rows` × `cols` grid of cells coloured by `color(row, col)`, row 0 at
/// the top, as one mesh.
pub fn heatmap(
    painter: &Painter,
    rect: Rect,
    rows: usize,
    cols: usize,
    mut color: impl FnMut(usize, usize) -> Color32,
) {
    if rows == 0 || cols == 0 {
        return;
    }
    let cell = Vec2::new(rect.width() / cols as f32, rect.height() / rows as f32);
    let mut mesh = Mesh::default();
    mesh.reserve_triangles(rows * cols * 2);
    mesh.reserve_vertices(rows * cols * 4);
    for r in 0..rows {
        for c in 0..cols {
            let min = Pos2::new(
                rect.min.x + c as f32 * cell.x,
                rect.min.y + r as f32 * cell.y,
            );
            mesh.add_colored_rect(Rect::from_min_size(min, cell), color(r, c));
        }
    }
    painter.add(mesh);
}

/// Allocates a strip `height` high across the available width and returns its rect and painter.
pub fn strip(ui: &mut egui::Ui, height: f32, label: &str) -> (egui::Response, Painter) {
    let (response, painter) = ui.allocate_painter(
        Vec2::new(ui.available_width(), height),
        egui::Sense::hover(),
    );
    let label = label.to_owned();
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));
    (response, painter)
}

/// A small plot that stays put inside a scrolling panel: no scrolling, dragging or zooming.
pub fn still_plot<'a>(id: impl egui::AsIdSalt, height: f32) -> egui_plot::Plot<'a> {
    egui_plot::Plot::new(id)
        .height(height)
        .allow_scroll(false)
        .allow_drag(false)
        .allow_zoom(false)
}
