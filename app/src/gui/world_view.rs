//! The world of one lane, top-down: road and lanes, actors by class, the ego car, its lidar
//! rays coloured by what they hit, the goal, and what the ego cannot see right now (when asked).
//!
//! World axes are x east, y north (m); the screen's y grows downwards, so `screen_from_world`
//! flips it.

use egui::{Align2, Color32, FontId, Pos2, Rect, Sense, Shape, Stroke, Vec2};
use memdrive_sim::actors::ActorKind;
use memdrive_sim::geometry::Vec2 as WorldVec;
use memdrive_sim::lidar::Hit;
use memdrive_sim::{Outcome, World};

/// Where the view looks and how close.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    /// Offset of the view's centre from the ego (m, world axes).
    pub pan_m: [f64; 2],
    /// Scale (screen points per metre).
    pub points_per_m: f32,
}

impl Default for Camera {
    fn default() -> Self {
        Self {
            pan_m: [14.0, 0.0],
            points_per_m: 8.0,
        }
    }
}

/// What to draw besides the road and what the ego sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layers {
    /// Actors the ego cannot see now, as faint outlines with "last seen" labels.
    pub hidden_truth: bool,
    /// The lidar rays.
    pub rays: bool,
}

/// Colours of actor classes (also used by the lidar rays that hit them).
pub fn actor_color(kind: ActorKind) -> Color32 {
    match kind {
        ActorKind::Car => Color32::from_rgb(80, 140, 230),
        ActorKind::Parked => Color32::from_rgb(160, 130, 95),
        ActorKind::Pedestrian => Color32::from_rgb(250, 160, 40),
    }
}

const EGO_COLOR: Color32 = Color32::from_rgb(90, 220, 120);
const ROAD_COLOR: Color32 = Color32::from_rgb(52, 54, 60);
const PAVEMENT_COLOR: Color32 = Color32::from_rgb(78, 78, 72);
const MARKING_COLOR: Color32 = Color32::from_rgb(200, 200, 200);

struct Transform {
    center_in_world: WorldVec,
    center_on_screen: Pos2,
    scale: f32,
}

impl Transform {
    fn screen_from_world(&self, p: WorldVec) -> Pos2 {
        let d = p - self.center_in_world;
        Pos2::new(
            self.center_on_screen.x + d.x as f32 * self.scale,
            self.center_on_screen.y - d.y as f32 * self.scale,
        )
    }
}

/// Draws `world` into a `size` area; zooms with the mouse wheel, pans by dragging, resets on a
/// double click. `label` names the view for screen readers and tests.
pub fn ui(
    ui: &mut egui::Ui,
    world: &World,
    camera: &mut Camera,
    layers: Layers,
    size: Vec2,
    label: &str,
    ghost: Option<(super::instruments::Ghost, Color32)>,
) -> egui::Response {
    let (response, painter) = ui.allocate_painter(size, Sense::click_and_drag());
    let label = label.to_owned();
    response.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Image, true, &label));
    if response.hovered() {
        let scroll = ui.input(|i| i.smooth_scroll_delta.y);
        if scroll != 0.0 {
            camera.points_per_m = (camera.points_per_m * (scroll * 0.003).exp()).clamp(1.0, 60.0);
        }
    }
    if response.dragged() {
        let d = response.drag_delta() / camera.points_per_m;
        camera.pan_m[0] -= f64::from(d.x);
        camera.pan_m[1] += f64::from(d.y);
    }
    if response.double_clicked() {
        *camera = Camera::default();
    }
    let rect = response.rect;
    let painter = painter.with_clip_rect(rect);
    painter.rect_filled(rect, 0.0, Color32::from_rgb(28, 40, 30));
    let ego = world.ego();
    let ego_center = ego.center(world.limits());
    let heading = ego.pose.heading_rad;
    // The pan is along and across the car's heading, so "ahead" stays ahead on curves.
    let (sin, cos) = heading.sin_cos();
    let along = WorldVec::new(cos, sin);
    let across = WorldVec::new(-sin, cos);
    let t = Transform {
        center_in_world: ego_center + along * camera.pan_m[0] + across * camera.pan_m[1],
        center_on_screen: rect.center(),
        scale: camera.points_per_m,
    };
    draw_road(&painter, world, &t, rect);
    draw_goal(&painter, world, &t);
    if ui.is_rect_visible(rect) {
        if layers.rays {
            draw_rays(&painter, world, &t);
        }
        draw_actors(&painter, world, &t, layers.hidden_truth);
        let ego_box = ego.body(world.limits());
        let corners: Vec<Pos2> = ego_box
            .corners()
            .iter()
            .map(|c| t.screen_from_world(*c))
            .collect();
        painter.add(Shape::convex_polygon(corners, EGO_COLOR, Stroke::NONE));
        if let Some((ghost, color)) = ghost {
            draw_ghost(&painter, &t, ego_center, along, across, ghost, color);
        }
        let nose = ego_center + along * (0.5 * world.limits().length_m);
        painter.line_segment(
            [t.screen_from_world(ego_center), t.screen_from_world(nose)],
            Stroke::new(2.0, Color32::BLACK),
        );
    }
    draw_readouts(&painter, world, rect);
    response
}

fn draw_road(painter: &egui::Painter, world: &World, t: &Transform, rect: Rect) {
    let road = world.road();
    let reach = f64::from(rect.size().length() / t.scale) * 0.6 + 10.0;
    let center_s = road
        .project_near(t.center_in_world, world.ego_frenet().s_m)
        .s_m;
    let from = (center_s - reach).max(0.0);
    let to = (center_s + reach).min(road.length_m());
    let half = road.half_width_m();
    let verge = road.verge_m();
    let samples: Vec<f64> = {
        let n = ((to - from) / 2.0).ceil().max(1.0) as usize;
        (0..=n)
            .map(|i| from + (to - from) * i as f64 / n as f64)
            .collect()
    };
    let band = |d0: f64, d1: f64, color: Color32| {
        let mut mesh = egui::Mesh::default();
        for (i, &s) in samples.iter().enumerate() {
            mesh.colored_vertex(t.screen_from_world(road.point_at(s, d0)), color);
            mesh.colored_vertex(t.screen_from_world(road.point_at(s, d1)), color);
            if i > 0 {
                let k = (2 * i) as u32;
                mesh.add_triangle(k - 2, k - 1, k);
                mesh.add_triangle(k - 1, k + 1, k);
            }
        }
        painter.add(mesh);
    };
    band(half, half + verge, PAVEMENT_COLOR);
    band(-half - verge, -half, PAVEMENT_COLOR);
    band(-half, half, ROAD_COLOR);
    let line = |d: f64, dashed: bool, stroke: Stroke| {
        let points: Vec<Pos2> = samples
            .iter()
            .map(|&s| t.screen_from_world(road.point_at(s, d)))
            .collect();
        if dashed {
            for (i, pair) in points.windows(2).enumerate() {
                if i % 2 == 0 {
                    painter.line_segment([pair[0], pair[1]], stroke);
                }
            }
        } else {
            painter.add(Shape::line(points, stroke));
        }
    };
    line(half, false, Stroke::new(2.0, MARKING_COLOR));
    line(-half, false, Stroke::new(2.0, MARKING_COLOR));
    for lane in 1..road.lane_count() {
        let d = 0.5 * (road.lane_center_d_m(lane - 1) + road.lane_center_d_m(lane));
        line(d, true, Stroke::new(1.5, MARKING_COLOR));
    }
    let wall = Stroke::new(2.0, Color32::from_rgb(120, 100, 80));
    line(half + verge, false, wall);
    line(-half - verge, false, wall);
}

fn draw_goal(painter: &egui::Painter, world: &World, t: &Transform) {
    let road = world.road();
    let s = world.goal_s_m().min(road.length_m());
    let half = road.half_width_m();
    let a = t.screen_from_world(road.point_at(s, -half));
    let b = t.screen_from_world(road.point_at(s, half));
    painter.line_segment([a, b], Stroke::new(4.0, Color32::from_rgb(240, 240, 240)));
    painter.text(
        b,
        Align2::LEFT_BOTTOM,
        "goal",
        FontId::proportional(12.0),
        Color32::WHITE,
    );
}

fn draw_rays(painter: &egui::Painter, world: &World, t: &Transform) {
    let scan = world.scan();
    let lidar = world.lidar();
    let ego = world.ego();
    let origin = ego.center(world.limits());
    let from = t.screen_from_world(origin);
    for (i, (&range, hit)) in scan.ranges_m.iter().zip(&scan.hits).enumerate() {
        let angle = ego.pose.heading_rad + lidar.beam_angle_rad(i);
        let end = origin + WorldVec::new(angle.cos(), angle.sin()) * range;
        let color = match hit {
            Hit::Nothing => Color32::from_rgba_unmultiplied(200, 200, 200, 25),
            Hit::Edge => Color32::from_rgba_unmultiplied(180, 180, 180, 70),
            Hit::Vehicle(a) | Hit::Pedestrian(a) => world
                .actors()
                .get(*a)
                .map_or(Color32::GRAY, |actor| actor_color(actor.kind))
                .gamma_multiply(0.8),
        };
        painter.line_segment([from, t.screen_from_world(end)], Stroke::new(1.0, color));
    }
}

fn draw_actors(painter: &egui::Painter, world: &World, t: &Transform, hidden_truth: bool) {
    let truth = world.truth();
    for (i, actor) in world.actors().iter().enumerate() {
        if !actor.active {
            continue;
        }
        let visible = world.visibility()[i].visible_now;
        if !visible && !hidden_truth {
            continue;
        }
        let corners: Vec<Pos2> = actor
            .body
            .corners()
            .iter()
            .map(|c| t.screen_from_world(*c))
            .collect();
        let color = actor_color(actor.kind);
        if visible {
            painter.add(Shape::convex_polygon(corners, color, Stroke::NONE));
        } else {
            let faint = color.gamma_multiply(0.55);
            painter.add(Shape::closed_line(corners, Stroke::new(1.5, faint)));
            let seen = match truth.time_since_seen_s(i) {
                Some(s) => format!("last seen {s:.1} s ago"),
                None => "never seen".to_owned(),
            };
            painter.text(
                t.screen_from_world(actor.body.center) + Vec2::new(0.0, -10.0),
                Align2::CENTER_BOTTOM,
                seen,
                FontId::proportional(10.0),
                faint,
            );
        }
    }
}

/// The controller's belief of where the hidden pedestrian is: a circle as wide as the probe's
/// error at this time since it was last seen, fainter the closer the probe is to a blind guess.
fn draw_ghost(
    painter: &egui::Painter,
    t: &Transform,
    ego_center: WorldVec,
    along: WorldVec,
    across: WorldVec,
    ghost: super::instruments::Ghost,
    color: Color32,
) {
    let [ahead, left] = ghost.relative_m;
    let p = ego_center + along * f64::from(ahead) + across * f64::from(left);
    let center = t.screen_from_world(p);
    let radius = (ghost.error_m * t.scale).max(4.0);
    let alpha = 0.15 + 0.6 * ghost.confidence;
    painter.circle(
        center,
        radius,
        color.gamma_multiply(alpha * 0.35),
        Stroke::new(1.5, color.gamma_multiply(alpha)),
    );
    painter.circle_filled(center, 3.0, color.gamma_multiply(alpha.max(0.5)));
    painter.text(
        center + Vec2::new(radius.min(30.0) + 3.0, 0.0),
        Align2::LEFT_CENTER,
        format!("belief ±{:.1} m", ghost.error_m),
        FontId::proportional(10.0),
        color,
    );
}

fn draw_readouts(painter: &egui::Painter, world: &World, rect: Rect) {
    let m = world.metrics();
    let ttc = m.min_ttc_s.map_or("–".to_owned(), |s| format!("{s:.1} s"));
    painter.text(
        rect.left_bottom() + Vec2::new(6.0, -6.0),
        Align2::LEFT_BOTTOM,
        format!(
            "{:.1} m/s · min TTC {ttc} · t {:.1} s",
            world.ego().speed_mps,
            world.time_s()
        ),
        FontId::monospace(11.0),
        Color32::WHITE,
    );
    if world.sensor_dropout() {
        painter.text(
            rect.center_top() + Vec2::new(0.0, 6.0),
            Align2::CENTER_TOP,
            "SENSOR DROPOUT",
            FontId::proportional(14.0),
            Color32::from_rgb(255, 90, 90),
        );
    }
    if let Some(outcome) = world.outcome() {
        let (text, color) = outcome_badge(outcome);
        let galley =
            painter.layout_no_wrap(text.to_owned(), FontId::proportional(16.0), Color32::BLACK);
        let badge = Rect::from_min_size(
            rect.left_top() + Vec2::new(6.0, 6.0),
            galley.size() + Vec2::new(12.0, 6.0),
        );
        painter.rect_filled(badge, 4.0, color);
        painter.galley(badge.min + Vec2::new(6.0, 3.0), galley, Color32::BLACK);
    }
}

/// The badge text and colour of an outcome.
pub fn outcome_badge(outcome: Outcome) -> (&'static str, Color32) {
    match outcome {
        Outcome::Goal => ("GOAL", Color32::from_rgb(90, 220, 120)),
        Outcome::Collision => ("COLLISION", Color32::from_rgb(255, 80, 80)),
        Outcome::OffRoad => ("OFF ROAD", Color32::from_rgb(255, 170, 60)),
        Outcome::Timeout => ("TIMEOUT", Color32::from_rgb(180, 180, 180)),
    }
}
