//! The lidar: N beams around the car, each reporting the nearest surface inside it.
//!
//! Beam `i` covers the wedge from `i * 360°/N` to `(i + 1) * 360°/N`, counter-clockwise from
//! the car's heading: beam 0 is just left of straight ahead and beam N-1 just right of it, so
//! what is ahead of the car on the left never shares a beam with what is ahead on the right. It reports the distance
//! to the nearest point of any surface (actor box or wall) inside its wedge and what that
//! surface belongs to — exactly the minimum, over every ray inside the wedge, of that ray's
//! first hit. Occlusion therefore comes from the geometry: a surface behind another one in every
//! direction of the wedge is never reported.
//!
//! The minimum is computed in closed form: over a straight edge and a wedge, the distance from
//! the origin is smallest either at the edge's closest point (if that lies in the wedge) or on
//! one of the wedge's two boundary rays. So each box costs one closest point plus one ray cast
//! per beam boundary it spans, and no beam is ever sampled.

use crate::geometry::{OrientedBox, Segment, Vec2, wrap_angle};
use std::f64::consts::TAU;

/// What a beam hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hit {
    /// Nothing within range (or the sensor is blank).
    Nothing,
    /// A car, moving or parked; the index of the actor in the world.
    Vehicle(usize),
    /// A pedestrian; the index of the actor in the world.
    Pedestrian(usize),
    /// A wall at the edge of the street.
    Edge,
}

impl Hit {
    /// The actor index, when an actor was hit.
    pub fn actor(self) -> Option<usize> {
        match self {
            Self::Vehicle(i) | Self::Pedestrian(i) => Some(i),
            Self::Nothing | Self::Edge => None,
        }
    }
}

/// What kind of surface a box is, for the beam's class report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SurfaceClass {
    /// Cars, moving or parked.
    Vehicle,
    /// People.
    Pedestrian,
}

/// One sweep of all beams.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LidarScan {
    /// Distance reported by each beam (m); the range when nothing was hit.
    pub ranges_m: Vec<f64>,
    /// What each beam hit.
    pub hits: Vec<Hit>,
}

/// Beam layout and range.
#[derive(Clone, Debug, PartialEq)]
pub struct Lidar {
    beams: usize,
    range_m: f64,
    /// Unit vector of every beam boundary relative to the heading: boundary `j` at `j * width`.
    boundaries: Vec<Vec2>,
}

impl Lidar {
    /// `beams` beams around the car reporting up to `range_m`.
    pub fn new(beams: usize, range_m: f64) -> Self {
        assert!(beams >= 2 && range_m > 0.0);
        let width = TAU / beams as f64;
        let boundaries = (0..beams)
            .map(|j| Vec2::from_angle(j as f64 * width))
            .collect();
        Self {
            beams,
            range_m,
            boundaries,
        }
    }

    /// Number of beams.
    pub fn beams(&self) -> usize {
        self.beams
    }

    /// Largest distance reported (m).
    pub fn range_m(&self) -> f64 {
        self.range_m
    }

    /// Angular width of one beam (rad).
    pub fn beam_width_rad(&self) -> f64 {
        TAU / self.beams as f64
    }

    /// Direction of beam `i`'s centre relative to the car's heading (rad).
    pub fn beam_angle_rad(&self, i: usize) -> f64 {
        wrap_angle((i as f64 + 0.5) * self.beam_width_rad())
    }

    /// Clears `scan` to "nothing within range" for every beam.
    pub fn blank(&self, scan: &mut LidarScan) {
        scan.ranges_m.clear();
        scan.ranges_m.resize(self.beams, self.range_m);
        scan.hits.clear();
        scan.hits.resize(self.beams, Hit::Nothing);
    }

    /// Sweeps from `origin` facing `heading_rad` over `boxes` (each with the hit it reports)
    /// and the wall `segments`, writing into `scan`.
    pub fn sweep<'a>(
        &self,
        origin: Vec2,
        heading_rad: f64,
        boxes: impl Iterator<Item = (&'a OrientedBox, Hit)>,
        segments: impl Iterator<Item = &'a Segment>,
        scan: &mut LidarScan,
    ) {
        self.blank(scan);
        let mut sweep = Sweep {
            lidar: self,
            origin,
            heading_rad,
            heading: Vec2::from_angle(heading_rad),
            width: self.beam_width_rad(),
            scan,
        };
        for (b, hit) in boxes {
            sweep.add_box(b, hit);
        }
        for s in segments {
            sweep.add_segment(s);
        }
    }
}

struct Sweep<'s> {
    lidar: &'s Lidar,
    origin: Vec2,
    heading_rad: f64,
    heading: Vec2,
    width: f64,
    scan: &'s mut LidarScan,
}

impl Sweep<'_> {
    /// Position in beam units of a direction: beam `i` covers `[i, i + 1)` (modulo N).
    fn beam_coord(&self, rel: Vec2) -> f64 {
        wrap_angle(rel.angle() - self.heading_rad) / self.width
    }

    /// `beam_coord` within 2.1e-4 rad (about 0.001 beam): for spans, which are padded by more.
    fn approx_beam_coord(&self, rel: Vec2) -> f64 {
        fast_atan2(self.heading.cross(rel), self.heading.dot(rel)) / self.width
    }

    fn beam_index(&self, coord: f64) -> usize {
        let n = self.lidar.beams as i64;
        // Coordinates stay within a turn or so of [0, N): wrap without an integer division.
        let mut k = floor_i64(coord);
        while k < 0 {
            k += n;
        }
        while k >= n {
            k -= n;
        }
        k as usize
    }

    fn offer(&mut self, beam: usize, dist: f64, hit: Hit) {
        if dist < self.scan.ranges_m[beam] {
            self.scan.ranges_m[beam] = dist;
            self.scan.hits[beam] = hit;
        }
    }

    /// Offers the closest point and every boundary crossing of a shape that spans the beam
    /// coordinates `[lo, hi]` (lo <= hi, hi - lo < N/2). `cast` returns the first hit of a
    /// ray from the origin in a world direction.
    fn offer_shape(
        &mut self,
        closest: Vec2,
        lo: f64,
        hi: f64,
        hit: Hit,
        cast: impl Fn(Vec2) -> Option<f64>,
    ) {
        let rel = closest - self.origin;
        let dist = rel.length();
        if dist > self.lidar.range_m {
            return;
        }
        // The cheap arctangent decides the beam unless the point lies within its error of a
        // boundary; only then is the exact one worth its cost.
        let approx = self.approx_beam_coord(rel);
        let c = if (approx - approx.round()).abs() < 0.005 {
            self.beam_coord(rel)
        } else {
            approx
        };
        self.offer(self.beam_index(c), dist, hit);
        // Boundaries sit at the integers of the beam coordinate.
        for j in (floor_i64(lo) + 1)..=floor_i64(hi) {
            let boundary = j as f64;
            let table = &self.lidar.boundaries;
            let dir = table[self.beam_index(boundary + 0.5)].rotated(self.heading);
            if let Some(t) = cast(dir)
                && t <= self.lidar.range_m
            {
                self.offer(self.beam_index(boundary - 0.5), t, hit);
                self.offer(self.beam_index(boundary + 0.5), t, hit);
            }
        }
    }

    fn add_box(&mut self, b: &OrientedBox, hit: Hit) {
        let to_center = b.center - self.origin;
        let radius = b.bounding_radius();
        if to_center.length() - radius > self.lidar.range_m {
            return;
        }
        // Closest point of the box: clamp the origin into the box's frame.
        let along = (-to_center)
            .dot(b.axis)
            .clamp(-b.half_length_m, b.half_length_m);
        let across = (-to_center)
            .dot(b.axis.perp())
            .clamp(-b.half_width_m, b.half_width_m);
        let closest = b.center + b.axis * along + b.axis.perp() * across;
        if (closest - self.origin).length_sq() < 1e-18 {
            // The sensor is inside the box: every beam is blocked at once.
            for beam in 0..self.lidar.beams {
                self.offer(beam, 0.0, hit);
            }
            return;
        }
        let center_coord = self.approx_beam_coord(to_center);
        // The box's angular span around its centre direction. A cheap arctangent is enough here:
        // a span padded by a little more than its error only adds boundary casts, which are exact.
        let pad = 0.01;
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for corner in b.corners() {
            let rel = corner - self.origin;
            let c = fast_atan2(to_center.cross(rel), to_center.dot(rel)) / self.width;
            lo = lo.min(c - pad);
            hi = hi.max(c + pad);
        }
        let origin = self.origin;
        self.offer_shape(closest, center_coord + lo, center_coord + hi, hit, |dir| {
            b.ray_entry(origin, dir)
        });
    }

    fn add_segment(&mut self, s: &Segment) {
        let closest = s.closest_point(self.origin);
        if (closest - self.origin).length() > self.lidar.range_m {
            return;
        }
        let a = self.approx_beam_coord(s.a - self.origin);
        let (ra, rb) = (s.a - self.origin, s.b - self.origin);
        let turn = fast_atan2(ra.cross(rb), ra.dot(rb)) / self.width;
        let pad = 0.01;
        let turn = turn + pad * turn.signum();
        let a = a - pad * turn.signum();
        let (lo, hi) = if turn >= 0.0 {
            (a, a + turn)
        } else {
            (a + turn, a)
        };
        let origin = self.origin;
        self.offer_shape(closest, lo, hi, Hit::Edge, |dir| s.ray_hit(origin, dir));
    }
}

/// The largest integer not above `x`, without a libm call.
fn floor_i64(x: f64) -> i64 {
    let t = x as i64;
    if (t as f64) > x { t - 1 } else { t }
}

/// Arctangent of `y / x` in (-π, π] within 2.1e-4 rad, several times cheaper than `atan2`.
fn fast_atan2(y: f64, x: f64) -> f64 {
    use std::f64::consts::{FRAC_PI_2, PI};
    let (ax, ay) = (x.abs(), y.abs());
    let (small, large) = if ax < ay { (ax, ay) } else { (ay, ax) };
    if large == 0.0 {
        return 0.0;
    }
    let a = small / large;
    let s = a * a;
    let mut r = ((-0.046_496_474_9 * s + 0.159_314_22) * s - 0.327_622_764) * s * a + a;
    if ay > ax {
        r = FRAC_PI_2 - r;
    }
    if x < 0.0 {
        r = PI - r;
    }
    if y < 0.0 { -r } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::Pose;

    fn car_at(x: f64, y: f64, heading: f64) -> OrientedBox {
        OrientedBox::new(
            Pose {
                pos_in_world: Vec2::new(x, y),
                heading_rad: heading,
            },
            4.5,
            1.8,
        )
    }

    /// Reference: the minimum over many thin rays inside each beam of each ray's first hit.
    fn brute_force(
        lidar: &Lidar,
        heading: f64,
        boxes: &[OrientedBox],
        walls: &[Segment],
    ) -> Vec<f64> {
        let rays_per_beam = 4000;
        (0..lidar.beams)
            .map(|beam| {
                let mut best = lidar.range_m;
                for k in 0..rays_per_beam {
                    let offset = (k as f64 + 0.5) / rays_per_beam as f64;
                    let dir =
                        Vec2::from_angle(heading + (beam as f64 + offset) * lidar.beam_width_rad());
                    for b in boxes {
                        if let Some(t) = b.ray_entry(Vec2::ZERO, dir) {
                            best = best.min(t);
                        }
                    }
                    for w in walls {
                        if let Some(t) = w.ray_hit(Vec2::ZERO, dir) {
                            best = best.min(t);
                        }
                    }
                }
                best
            })
            .collect()
    }

    #[test]
    fn fast_atan2_is_within_its_stated_error() {
        for i in 0..10_000 {
            let angle = -std::f64::consts::PI + TAU * f64::from(i) / 10_000.0;
            let (y, x) = (angle.sin() * 7.0, angle.cos() * 7.0);
            assert!((fast_atan2(y, x) - y.atan2(x)).abs() < 2.1e-4, "at {angle}");
        }
    }

    #[test]
    fn closed_form_matches_dense_ray_sampling() {
        let lidar = Lidar::new(32, 60.0);
        let boxes = [
            car_at(12.0, 0.5, 0.1),
            car_at(20.0, -4.0, 0.0),
            car_at(-8.0, 3.0, 1.0),
            car_at(3.0, 9.0, 2.5),
            car_at(35.0, 1.0, 0.0),
        ];
        let walls = [
            Segment::new(Vec2::new(-100.0, -7.0), Vec2::new(100.0, -7.0)),
            Segment::new(Vec2::new(-100.0, 8.0), Vec2::new(100.0, 8.0)),
        ];
        for heading in [0.0, 0.3, -2.0] {
            let mut scan = LidarScan::default();
            let hits = boxes.iter().enumerate().map(|(i, b)| (b, Hit::Vehicle(i)));
            lidar.sweep(Vec2::ZERO, heading, hits, walls.iter(), &mut scan);
            let reference = brute_force(&lidar, heading, &boxes, &walls);
            for (beam, (got, want)) in scan.ranges_m.iter().zip(&reference).enumerate() {
                // Sampling can only overestimate the true minimum, by at most the arc between rays.
                assert!(*got <= want + 1e-9, "beam {beam}: {got} > sampled {want}");
                assert!(want - got < 0.05, "beam {beam}: {got} vs sampled {want}");
            }
        }
    }

    #[test]
    fn a_box_hidden_behind_another_is_not_reported() {
        let lidar = Lidar::new(32, 60.0);
        // A wide truck ahead hides a person right behind it in every direction of the beams.
        let truck = OrientedBox::new(
            Pose {
                pos_in_world: Vec2::new(10.0, 0.0),
                heading_rad: std::f64::consts::FRAC_PI_2,
            },
            12.0,
            2.5,
        );
        let person = OrientedBox::new(
            Pose {
                pos_in_world: Vec2::new(14.0, 0.0),
                heading_rad: 0.0,
            },
            0.5,
            0.5,
        );
        let boxes = [(&truck, Hit::Vehicle(0)), (&person, Hit::Pedestrian(1))];
        let mut scan = LidarScan::default();
        lidar.sweep(
            Vec2::ZERO,
            0.0,
            boxes.into_iter(),
            std::iter::empty(),
            &mut scan,
        );
        assert!(!scan.hits.contains(&Hit::Pedestrian(1)));
        assert_eq!(scan.hits[0], Hit::Vehicle(0));
        assert!((scan.ranges_m[0] - 8.75).abs() < 1e-9);
        // With the truck gone the person is seen straight ahead.
        lidar.sweep(
            Vec2::ZERO,
            0.0,
            [(&person, Hit::Pedestrian(1))].into_iter(),
            std::iter::empty(),
            &mut scan,
        );
        assert_eq!(scan.hits[0], Hit::Pedestrian(1));
    }
}
