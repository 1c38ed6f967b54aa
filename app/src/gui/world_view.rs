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
    /// The key to colours and shapes.
    pub legend: bool,
}

/// Colours of actor classes (also used by the lidar rays that hit them).
pub fn actor_color(kind: ActorKind) -> Color32 {
    match kind {
        ActorKind::Car => Color32::from_rgb(80, 140, 230),
        ActorKind::Parked => Color32::from_rgb(160, 130, 95),
        ActorKind::Pedestrian => Color32::from_rgb(250, 160, 40),
    }
}

/// Least size of an actor on screen (points), so a pedestrian is never a dot.
const MIN_ACTOR_POINTS: f32 = 9.0;
/// Least distance (points) between the ego and the edge of the view.
const EGO_MARGIN: f32 = 24.0;
/// Size of the labels drawn in the world.
const LABEL_FONT: f32 = 12.0;

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
            let before = camera.points_per_m;
            camera.points_per_m = (before * (scroll * 0.003).exp()).clamp(1.0, 60.0);
            // The ego keeps its place on screen: the pan, in metres, shrinks as the zoom grows.
            let keep = f64::from(before / camera.points_per_m);
            camera.pan_m = [camera.pan_m[0] * keep, camera.pan_m[1] * keep];
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
    let mut t = Transform {
        center_in_world: ego_center + along * camera.pan_m[0] + across * camera.pan_m[1],
        center_on_screen: rect.center(),
        scale: camera.points_per_m,
    };
    // However narrow the view, the ego stays inside it (the look-ahead gives way first).
    let margin = (rect.size() * 0.5 - Vec2::splat(1.0)).min(Vec2::splat(EGO_MARGIN));
    let on_screen = t.screen_from_world(ego_center);
    let inside = on_screen.clamp(rect.min + margin, rect.max - margin);
    let shift = on_screen - inside;
    t.center_in_world += WorldVec::new(f64::from(shift.x / t.scale), f64::from(-shift.y / t.scale));
    draw_road(&painter, world, &t, rect);
    draw_goal(&painter, world, &t);
    if ui.is_rect_visible(rect) {
        if layers.rays {
            draw_rays(&painter, world, &t);
        }
        let ego_box = ego.body(world.limits());
        let ego_corners: Vec<Pos2> = ego_box
            .corners()
            .iter()
            .map(|c| t.screen_from_world(*c))
            .collect();
        // Labels are placed where they cover neither the car nor each other.
        // The readout line at the bottom, the badge at the top left and the legend at the top
        // right are taken too.
        let mut labels = Labels {
            taken: vec![
                Rect::from_points(&ego_corners).expand(2.0),
                Rect::from_min_max(
                    rect.left_bottom() - Vec2::new(0.0, 20.0),
                    rect.right_bottom(),
                ),
                Rect::from_min_size(rect.left_top(), Vec2::new(120.0, 34.0)),
            ],
            bounds: rect,
        };
        let legend = legend_rect(rect).filter(|_| layers.legend);
        labels.taken.extend(legend);
        draw_actors(&painter, world, &t, layers.hidden_truth, &mut labels);
        painter.add(Shape::convex_polygon(
            ego_corners,
            EGO_COLOR,
            Stroke::new(1.0, Color32::BLACK),
        ));
        let nose = ego_center + along * (0.5 * world.limits().length_m);
        painter.line_segment(
            [t.screen_from_world(ego_center), t.screen_from_world(nose)],
            Stroke::new(2.0, Color32::BLACK),
        );
        if let Some((ghost, color)) = ghost {
            draw_ghost(
                &painter,
                &t,
                ego_center,
                along,
                across,
                ghost,
                color,
                &mut labels,
            );
        }
        if let Some(frame) = legend {
            draw_legend(&painter, frame);
        }
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

/// Screen space already used by the car and by labels, so later labels go elsewhere.
struct Labels {
    taken: Vec<Rect>,
    bounds: Rect,
}

impl Labels {
    /// Draws `text` next to `anchor` (above, below, right or left of a `clearance`-point
    /// radius, the first of them that is free); skips it when none is.
    fn place(
        &mut self,
        painter: &egui::Painter,
        anchor: Pos2,
        clearance: f32,
        text: String,
        color: Color32,
    ) {
        let galley = painter.layout_no_wrap(text, FontId::proportional(LABEL_FONT), color);
        let size = galley.size() + Vec2::new(6.0, 2.0);
        let gap = clearance + 3.0;
        let candidates = [
            Rect::from_center_size(anchor - Vec2::new(0.0, gap + size.y / 2.0), size),
            Rect::from_center_size(anchor + Vec2::new(0.0, gap + size.y / 2.0), size),
            Rect::from_min_size(anchor + Vec2::new(gap, -size.y / 2.0), size),
            Rect::from_min_size(anchor - Vec2::new(gap + size.x, size.y / 2.0), size),
        ];
        let Some(spot) = candidates.into_iter().find(|c| {
            self.bounds.contains_rect(*c) && !self.taken.iter().any(|t| t.intersects(*c))
        }) else {
            return;
        };
        self.taken.push(spot);
        painter.rect_filled(spot, 3.0, Color32::from_black_alpha(150));
        painter.galley(spot.min + Vec2::new(3.0, 1.0), galley, color);
    }
}

/// Draws one actor by class: cars as boxes with a windscreen, parked vehicles as boxes with a
/// cross, pedestrians as ringed discs — each at least `MIN_ACTOR_POINTS` across. Hidden actors
/// (drawn only with the hidden truth on) are outlines. Returns the screen radius it covers.
fn draw_actor(
    painter: &egui::Painter,
    t: &Transform,
    actor: &memdrive_sim::actors::Actor,
    visible: bool,
) -> f32 {
    let color = actor_color(actor.kind);
    let faint = color.gamma_multiply(0.6);
    let center = t.screen_from_world(actor.body.center);
    let mut corners: Vec<Pos2> = actor
        .body
        .corners()
        .iter()
        .map(|c| t.screen_from_world(*c))
        .collect();
    let extent = Rect::from_points(&corners);
    if actor.kind == ActorKind::Pedestrian {
        let radius = (0.5 * extent.size().max_elem()).max(MIN_ACTOR_POINTS / 2.0 + 1.0);
        if visible {
            painter.circle(center, radius, color, Stroke::new(2.0, Color32::WHITE));
            painter.circle_filled(center, radius * 0.35, Color32::from_rgb(90, 50, 10));
        } else {
            painter.circle_stroke(center, radius, Stroke::new(2.0, faint));
        }
        return radius;
    }
    // Grow a box too small to read about its centre.
    let small = extent.size().min_elem();
    if small < MIN_ACTOR_POINTS {
        let grow = MIN_ACTOR_POINTS / small.max(0.5);
        for c in &mut corners {
            *c = center + (*c - center) * grow.min(8.0);
        }
    }
    let radius = 0.5 * Rect::from_points(&corners).size().length();
    if visible {
        painter.add(Shape::convex_polygon(
            corners.clone(),
            color,
            Stroke::new(1.0, Color32::BLACK),
        ));
    } else {
        painter.add(Shape::closed_line(corners.clone(), Stroke::new(1.5, faint)));
    }
    let mark = if visible {
        Stroke::new(1.5, Color32::from_black_alpha(170))
    } else {
        Stroke::new(1.0, faint)
    };
    match actor.kind {
        ActorKind::Parked => {
            painter.line_segment([corners[0], corners[2]], mark);
            painter.line_segment([corners[1], corners[3]], mark);
        }
        // A windscreen 30% back from the front edge (corners 0 and 3; 1 and 2 are the rear).
        _ => {
            let a = corners[0] + (corners[1] - corners[0]) * 0.3;
            let b = corners[3] + (corners[2] - corners[3]) * 0.3;
            painter.line_segment([a, b], mark);
        }
    }
    radius
}

fn draw_actors(
    painter: &egui::Painter,
    world: &World,
    t: &Transform,
    hidden_truth: bool,
    labels: &mut Labels,
) {
    let truth = world.truth();
    let mut hidden_labels = Vec::new();
    for (i, actor) in world.actors().iter().enumerate() {
        if !actor.active {
            continue;
        }
        let visible = world.visibility()[i].visible_now;
        if !visible && !hidden_truth {
            continue;
        }
        let radius = draw_actor(painter, t, actor, visible);
        if !visible {
            let seen = match truth.time_since_seen_s(i) {
                Some(s) => format!("last seen {s:.1} s ago"),
                None => "never seen".to_owned(),
            };
            let anchor = t.screen_from_world(actor.body.center);
            // Pedestrians first: theirs is the label the scenario is about.
            let rank = u8::from(actor.kind != ActorKind::Pedestrian);
            hidden_labels.push((rank, anchor, radius, seen, actor_color(actor.kind)));
        }
    }
    hidden_labels.sort_by_key(|l| l.0);
    for (_, anchor, radius, text, color) in hidden_labels {
        if painter.clip_rect().contains(anchor) {
            labels.place(
                painter,
                anchor,
                radius.min(40.0),
                text,
                color.gamma_multiply(0.9),
            );
        }
    }
}

/// The controller's belief of where the hidden pedestrian is: a circle as wide as the probe's
/// error at this time since it was last seen, fainter the closer the probe is to a blind guess.
#[allow(clippy::too_many_arguments)] // one drawing call: transform, frame, ghost and label space
fn draw_ghost(
    painter: &egui::Painter,
    t: &Transform,
    ego_center: WorldVec,
    along: WorldVec,
    across: WorldVec,
    ghost: super::instruments::Ghost,
    color: Color32,
    labels: &mut Labels,
) {
    let [ahead, left] = ghost.relative_m;
    let p = ego_center + along * f64::from(ahead) + across * f64::from(left);
    let center = t.screen_from_world(p);
    let radius = (ghost.error_m * t.scale).max(5.0);
    let alpha = 0.15 + 0.6 * ghost.confidence;
    painter.circle(
        center,
        radius,
        color.gamma_multiply(alpha * 0.35),
        Stroke::new(1.5, color.gamma_multiply(alpha)),
    );
    painter.circle_filled(center, 3.5, color.gamma_multiply(alpha.max(0.5)));
    labels.place(
        painter,
        center,
        radius.min(30.0),
        format!("belief ±{:.1} m", ghost.error_m),
        color,
    );
}

/// Entries of the legend.
const LEGEND_ROWS: usize = 5;
/// Size of the legend (points).
const LEGEND_SIZE: Vec2 = Vec2::new(88.0, 14.0 * LEGEND_ROWS as f32 + 6.0);

/// Where the legend goes in a view of `rect`: its top-right corner, if the view is large
/// enough to spare the room (twice the key's width, one and a half its height: the narrow
/// lanes of a 1600-point window with both panels open get no key).
fn legend_rect(rect: Rect) -> Option<Rect> {
    (rect.width() >= 2.0 * LEGEND_SIZE.x && rect.height() >= 1.5 * LEGEND_SIZE.y).then(|| {
        Rect::from_min_size(
            rect.right_top() + Vec2::new(-LEGEND_SIZE.x - 6.0, 6.0),
            LEGEND_SIZE,
        )
    })
}

/// A small key in `frame`: what each colour and shape is.
fn draw_legend(painter: &egui::Painter, frame: Rect) {
    let entries: [(&str, Color32, u8); LEGEND_ROWS] = [
        ("ego", EGO_COLOR, 0),
        ("car", actor_color(ActorKind::Car), 0),
        ("parked", actor_color(ActorKind::Parked), 1),
        ("pedestrian", actor_color(ActorKind::Pedestrian), 2),
        ("unseen now", Color32::GRAY, 3),
    ];
    let font = FontId::proportional(11.0);
    let row = 14.0;
    painter.rect_filled(frame, 4.0, Color32::from_black_alpha(140));
    for (i, (name, color, shape)) in entries.into_iter().enumerate() {
        let y = frame.min.y + 3.0 + row * (i as f32 + 0.5);
        let icon = Pos2::new(frame.min.x + 10.0, y);
        let swatch = Rect::from_center_size(icon, Vec2::new(10.0, 7.0));
        match shape {
            2 => {
                painter.circle(icon, 4.5, color, Stroke::new(1.5, Color32::WHITE));
            }
            3 => {
                painter.rect_stroke(
                    swatch,
                    0.0,
                    Stroke::new(1.2, color),
                    egui::StrokeKind::Inside,
                );
            }
            _ => {
                painter.rect_filled(swatch, 1.0, color);
                if shape == 1 {
                    let mark = Stroke::new(1.0, Color32::BLACK);
                    painter.line_segment([swatch.left_top(), swatch.right_bottom()], mark);
                    painter.line_segment([swatch.right_top(), swatch.left_bottom()], mark);
                }
            }
        }
        painter.text(
            Pos2::new(frame.min.x + 20.0, y),
            Align2::LEFT_CENTER,
            name,
            font.clone(),
            Color32::WHITE,
        );
    }
}

fn draw_readouts(painter: &egui::Painter, world: &World, rect: Rect) {
    let m = world.metrics();
    let ttc = m.min_ttc_s.map_or("–".to_owned(), |s| format!("{s:.1} s"));
    let (speed, t) = (world.ego().speed_mps, world.time_s());
    let font = FontId::monospace(11.0);
    // In a narrow view the line is broken in two, or three, rather than cut off at the edge.
    let layouts = [
        format!("{speed:.1} m/s · min TTC {ttc} · t {t:.1} s"),
        format!("{speed:.1} m/s · t {t:.1} s\nmin TTC {ttc}"),
        format!("{speed:.1} m/s\nt {t:.1} s\nmin TTC {ttc}"),
    ];
    let mut galley = None;
    for text in layouts {
        let laid = painter.layout_no_wrap(text, font.clone(), Color32::WHITE);
        let fits = laid.size().x <= rect.width() - 12.0;
        galley = Some(laid);
        if fits {
            break;
        }
    }
    let Some(galley) = galley else { return };
    let corner = rect.left_bottom() + Vec2::new(6.0, -6.0 - galley.size().y);
    painter.galley(corner, galley, Color32::WHITE);
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
        let (_, color) = outcome_badge(outcome);
        let text = badge_text(outcome, world.collision());
        // Wrapped to the view, so "COLLISION: pedestrian, forgotten" is never cut off.
        let galley = painter.layout(
            text,
            FontId::proportional(16.0),
            Color32::BLACK,
            (rect.width() - 24.0).max(40.0),
        );
        let badge = Rect::from_min_size(
            rect.left_top() + Vec2::new(6.0, 6.0),
            galley.size() + Vec2::new(12.0, 6.0),
        );
        painter.rect_filled(badge, 4.0, color);
        painter.galley(badge.min + Vec2::new(6.0, 3.0), galley, Color32::BLACK);
    }
}

/// The badge of an ended episode: the outcome, and for a collision what was hit and what the
/// sensors knew of it ("COLLISION: pedestrian, forgotten"), so a crash says whether memory
/// failed or driving did.
pub fn badge_text(outcome: Outcome, collision: Option<memdrive_sim::world::Collision>) -> String {
    let (text, _) = outcome_badge(outcome);
    match collision {
        Some(c) if outcome == Outcome::Collision => format!("{text}: {}", collision_text(c)),
        _ => text.to_owned(),
    }
}

/// What a collision hit and what the sensors knew of it: "pedestrian, forgotten".
pub fn collision_text(c: memdrive_sim::world::Collision) -> String {
    let victim = match c.victim {
        memdrive_sim::world::Victim::Pedestrian => "pedestrian",
        memdrive_sim::world::Victim::MovingCar => "car",
        memdrive_sim::world::Victim::ParkedVehicle => "parked vehicle",
    };
    format!("{victim}, {}", c.knowledge.label())
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

#[cfg(test)]
mod legend_tests {
    use super::*;

    #[test]
    fn the_key_is_drawn_in_a_view_twice_its_width() {
        let view = |w: f32, h: f32| Rect::from_min_size(Pos2::ZERO, Vec2::new(w, h));
        let key = legend_rect(view(180.0, 120.0)).unwrap_or_else(|| panic!("no key"));
        assert!(view(180.0, 120.0).contains_rect(key));
        assert_eq!(legend_rect(view(170.0, 120.0)), None);
        assert_eq!(legend_rect(view(180.0, 110.0)), None);
    }
}

#[cfg(test)]
mod badge_tests {
    use super::*;
    use memdrive_sim::world::{Collision, Knowledge, Victim};

    #[test]
    fn a_collision_badge_says_what_was_hit_and_what_the_sensors_knew() {
        let c = Collision {
            actor: 3,
            victim: Victim::Pedestrian,
            knowledge: Knowledge::Forgotten,
            last_seen_s_before: Some(2.5),
        };
        assert_eq!(
            badge_text(Outcome::Collision, Some(c)),
            "COLLISION: pedestrian, forgotten"
        );
        assert_eq!(badge_text(Outcome::Goal, None), "GOAL");
        let seen = Collision {
            victim: Victim::MovingCar,
            knowledge: Knowledge::InView,
            ..c
        };
        assert_eq!(
            badge_text(Outcome::Collision, Some(seen)),
            "COLLISION: car, in view"
        );
    }
}
