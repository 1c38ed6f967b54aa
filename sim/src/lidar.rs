//! The lidar: N beams around the car, each reporting the nearest surface inside it.
//!
//! Beam `i` points at `i * 360°/N` counter-clockwise from the car's heading (beam 0 straight
//! ahead) and covers the wedge of width `360°/N` around that direction. It reports the distance
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
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lidar {
    /// Number of beams around the car.
    pub beams: usize,
    /// Largest distance reported (m).
    pub range_m: f64,
}

impl Lidar {
    /// Angular width of one beam (rad).
    pub fn beam_width_rad(&self) -> f64 {
        TAU / self.beams as f64
    }

    /// Direction of beam `i`'s centre relative to the car's heading (rad).
    pub fn beam_angle_rad(&self, i: usize) -> f64 {
        wrap_angle(i as f64 * self.beam_width_rad())
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
    width: f64,
    scan: &'s mut LidarScan,
}

impl Sweep<'_> {
    /// Position in beam units of a direction: beam `i` covers `[i - 0.5, i + 0.5)`.
    fn beam_coord(&self, rel: Vec2) -> f64 {
        wrap_angle(rel.angle() - self.heading_rad) / self.width
    }

    fn beam_index(&self, coord: f64) -> usize {
        let n = self.lidar.beams as i64;
        (coord.round() as i64).rem_euclid(n) as usize
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
        let c = self.beam_coord(rel);
        self.offer(self.beam_index(c), dist, hit);
        // Boundaries sit at half-integers of the beam coordinate.
        let first = (lo - 0.5).ceil() as i64;
        let last = (hi - 0.5).floor() as i64;
        for j in first..=last {
            let boundary = j as f64 + 0.5;
            let dir = Vec2::from_angle(self.heading_rad + boundary * self.width);
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
        let center_coord = self.beam_coord(to_center);
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for corner in b.corners() {
            let c = wrap_angle(
                (corner - self.origin).angle() - self.heading_rad - center_coord * self.width,
            ) / self.width;
            lo = lo.min(c);
            hi = hi.max(c);
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
        let a = self.beam_coord(s.a - self.origin);
        let turn =
            wrap_angle((s.b - self.origin).angle() - (s.a - self.origin).angle()) / self.width;
        let (lo, hi) = if turn >= 0.0 {
            (a, a + turn)
        } else {
            (a + turn, a)
        };
        let origin = self.origin;
        self.offer_shape(closest, lo, hi, Hit::Edge, |dir| s.ray_hit(origin, dir));
    }
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
        let rays_per_beam = 400;
        (0..lidar.beams)
            .map(|beam| {
                let mut best = lidar.range_m;
                for k in 0..rays_per_beam {
                    let offset = (k as f64 + 0.5) / rays_per_beam as f64 - 0.5;
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
    fn closed_form_matches_dense_ray_sampling() {
        let lidar = Lidar {
            beams: 32,
            range_m: 60.0,
        };
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
        let lidar = Lidar {
            beams: 32,
            range_m: 60.0,
        };
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
