//! Plane geometry the world is built from: vectors, poses, oriented boxes and segments.
//!
//! World frame: x east, y north, metres; angles in radians, counter-clockwise from +x.

use std::ops::{Add, AddAssign, Mul, Neg, Sub};

/// A point or direction in the plane (metres).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Vec2 {
    /// East (m).
    pub x: f64,
    /// North (m).
    pub y: f64,
}

impl Vec2 {
    /// The origin.
    pub const ZERO: Self = Self { x: 0.0, y: 0.0 };

    /// A vector from its components.
    pub const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }

    /// The unit vector at `angle_rad` from +x.
    pub fn from_angle(angle_rad: f64) -> Self {
        let (sin, cos) = angle_rad.sin_cos();
        Self { x: cos, y: sin }
    }

    /// Dot product.
    pub fn dot(self, other: Self) -> f64 {
        self.x * other.x + self.y * other.y
    }

    /// z of the 3D cross product: positive when `other` is counter-clockwise of `self`.
    pub fn cross(self, other: Self) -> f64 {
        self.x * other.y - self.y * other.x
    }

    /// Euclidean length.
    pub fn length(self) -> f64 {
        // Not `hypot`: its overflow guard costs 5x and world coordinates never come near it.
        self.length_sq().sqrt()
    }

    /// Squared length (no square root).
    pub fn length_sq(self) -> f64 {
        self.dot(self)
    }

    /// The vector turned 90° counter-clockwise (to the left of `self`).
    pub fn perp(self) -> Self {
        Self {
            x: -self.y,
            y: self.x,
        }
    }

    /// Angle from +x, in (-π, π].
    pub fn angle(self) -> f64 {
        self.y.atan2(self.x)
    }

    /// The vector rotated counter-clockwise by the angle whose unit vector is `by`.
    pub fn rotated(self, by: Self) -> Self {
        Self::new(self.x * by.x - self.y * by.y, self.x * by.y + self.y * by.x)
    }
}

impl Add for Vec2 {
    type Output = Self;
    fn add(self, rhs: Self) -> Self {
        Self::new(self.x + rhs.x, self.y + rhs.y)
    }
}

impl AddAssign for Vec2 {
    fn add_assign(&mut self, rhs: Self) {
        self.x += rhs.x;
        self.y += rhs.y;
    }
}

impl Sub for Vec2 {
    type Output = Self;
    fn sub(self, rhs: Self) -> Self {
        Self::new(self.x - rhs.x, self.y - rhs.y)
    }
}

impl Mul<f64> for Vec2 {
    type Output = Self;
    fn mul(self, rhs: f64) -> Self {
        Self::new(self.x * rhs, self.y * rhs)
    }
}

impl Neg for Vec2 {
    type Output = Self;
    fn neg(self) -> Self {
        Self::new(-self.x, -self.y)
    }
}

/// Wraps an angle into (-π, π].
pub fn wrap_angle(angle_rad: f64) -> f64 {
    let two_pi = std::f64::consts::TAU;
    let mut a = angle_rad % two_pi;
    if a <= -std::f64::consts::PI {
        a += two_pi;
    } else if a > std::f64::consts::PI {
        a -= two_pi;
    }
    a
}

/// A position and a heading.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pose {
    /// Position in the world (m).
    pub pos_in_world: Vec2,
    /// Heading, counter-clockwise from +x (rad).
    pub heading_rad: f64,
}

/// A rectangle of given length (along its heading) and width, centred on `center`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrientedBox {
    /// Centre of the box in the world (m).
    pub center: Vec2,
    /// Unit vector along the box's length.
    pub axis: Vec2,
    /// Half the length (m).
    pub half_length_m: f64,
    /// Half the width (m).
    pub half_width_m: f64,
}

impl OrientedBox {
    /// A box centred at `pose` with the given full length and width.
    pub fn new(pose: Pose, length_m: f64, width_m: f64) -> Self {
        Self {
            center: pose.pos_in_world,
            axis: Vec2::from_angle(pose.heading_rad),
            half_length_m: 0.5 * length_m,
            half_width_m: 0.5 * width_m,
        }
    }

    /// A box centred at `center` whose length runs along the unit vector `axis`.
    pub fn from_axis(center: Vec2, axis: Vec2, length_m: f64, width_m: f64) -> Self {
        Self {
            center,
            axis,
            half_length_m: 0.5 * length_m,
            half_width_m: 0.5 * width_m,
        }
    }

    /// Radius of the circle around the centre that contains the box.
    pub fn bounding_radius(&self) -> f64 {
        (self.half_length_m * self.half_length_m + self.half_width_m * self.half_width_m).sqrt()
    }

    /// Corners counter-clockwise, starting front-left.
    pub fn corners(&self) -> [Vec2; 4] {
        let l = self.axis * self.half_length_m;
        let w = self.axis.perp() * self.half_width_m;
        [
            self.center + l + w,
            self.center - l + w,
            self.center - l - w,
            self.center + l - w,
        ]
    }

    /// The four sides as segments, in corner order.
    pub fn sides(&self) -> [Segment; 4] {
        let c = self.corners();
        [
            Segment::new(c[0], c[1]),
            Segment::new(c[1], c[2]),
            Segment::new(c[2], c[3]),
            Segment::new(c[3], c[0]),
        ]
    }

    /// Whether `point` lies inside the box (boundary included).
    pub fn contains(&self, point: Vec2) -> bool {
        let rel = point - self.center;
        rel.dot(self.axis).abs() <= self.half_length_m
            && rel.dot(self.axis.perp()).abs() <= self.half_width_m
    }

    /// Whether two boxes overlap (separating-axis test; touching counts as overlap).
    pub fn overlaps(&self, other: &Self) -> bool {
        let reach = self.bounding_radius() + other.bounding_radius();
        if (other.center - self.center).length_sq() > reach * reach {
            return false;
        }
        let axes = [self.axis, self.axis.perp(), other.axis, other.axis.perp()];
        let delta = other.center - self.center;
        axes.iter().all(|&axis| {
            let projected = |b: &Self| {
                b.half_length_m * b.axis.dot(axis).abs()
                    + b.half_width_m * b.axis.perp().dot(axis).abs()
            };
            delta.dot(axis).abs() <= projected(self) + projected(other)
        })
    }

    /// Distance along the unit ray `origin + t * dir` at which it enters the box, if it does
    /// for some `t >= 0`. A ray starting inside the box returns 0.
    pub fn ray_entry(&self, origin: Vec2, dir: Vec2) -> Option<f64> {
        // Slab test in the box's own frame.
        let rel = origin - self.center;
        let axes = [
            (self.axis, self.half_length_m),
            (self.axis.perp(), self.half_width_m),
        ];
        let mut t_min = 0.0_f64;
        let mut t_max = f64::INFINITY;
        for (axis, half) in axes {
            let o = rel.dot(axis);
            let d = dir.dot(axis);
            if d.abs() < 1e-12 {
                if o.abs() > half {
                    return None;
                }
            } else {
                let t1 = (-half - o) / d;
                let t2 = (half - o) / d;
                let (near, far) = if t1 < t2 { (t1, t2) } else { (t2, t1) };
                t_min = t_min.max(near);
                t_max = t_max.min(far);
                if t_min > t_max {
                    return None;
                }
            }
        }
        Some(t_min)
    }
}

/// A straight line segment between two points.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Segment {
    /// One end.
    pub a: Vec2,
    /// The other end.
    pub b: Vec2,
}

impl Segment {
    /// A segment from `a` to `b`.
    pub const fn new(a: Vec2, b: Vec2) -> Self {
        Self { a, b }
    }

    /// The point of the segment closest to `p`.
    pub fn closest_point(&self, p: Vec2) -> Vec2 {
        let ab = self.b - self.a;
        let len_sq = ab.length_sq();
        if len_sq < 1e-18 {
            return self.a;
        }
        let t = ((p - self.a).dot(ab) / len_sq).clamp(0.0, 1.0);
        self.a + ab * t
    }

    /// Distance along the unit ray `origin + t * dir` (t >= 0) at which it crosses the segment.
    pub fn ray_hit(&self, origin: Vec2, dir: Vec2) -> Option<f64> {
        let ab = self.b - self.a;
        let denom = dir.cross(ab);
        if denom.abs() < 1e-12 {
            return None;
        }
        let ao = self.a - origin;
        let t = ao.cross(ab) / denom;
        let u = ao.cross(dir) / denom;
        (t >= 0.0 && (0.0..=1.0).contains(&u)).then_some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::FRAC_PI_2;

    fn unit_box_at(x: f64, y: f64, heading: f64) -> OrientedBox {
        OrientedBox::new(
            Pose {
                pos_in_world: Vec2::new(x, y),
                heading_rad: heading,
            },
            2.0,
            1.0,
        )
    }

    #[test]
    fn wrap_angle_stays_in_half_open_interval() {
        assert!((wrap_angle(3.0 * std::f64::consts::PI) - std::f64::consts::PI).abs() < 1e-12);
        assert!((wrap_angle(-FRAC_PI_2 - std::f64::consts::TAU) + FRAC_PI_2).abs() < 1e-12);
        assert_eq!(wrap_angle(0.25), 0.25);
    }

    #[test]
    fn boxes_overlap_only_when_they_touch() {
        let a = unit_box_at(0.0, 0.0, 0.0);
        assert!(a.overlaps(&unit_box_at(1.9, 0.0, 0.0)));
        assert!(!a.overlaps(&unit_box_at(2.1, 0.0, 0.0)));
        // Turned 90°, the second box spans only its half-width (0.5) along x: 1.0 + 0.5 = 1.5.
        assert!(a.overlaps(&unit_box_at(1.4, 0.0, FRAC_PI_2)));
        assert!(!a.overlaps(&unit_box_at(1.6, 0.0, FRAC_PI_2)));
        // Diagonal placement that a bounding-circle test alone would call overlapping.
        assert!(!a.overlaps(&unit_box_at(1.9, 1.1, 0.0)));
    }

    #[test]
    fn ray_enters_box_at_its_near_face() {
        let b = unit_box_at(10.0, 0.0, 0.0);
        let t = b.ray_entry(Vec2::ZERO, Vec2::new(1.0, 0.0));
        assert!((t.unwrap_or(f64::NAN) - 9.0).abs() < 1e-12);
        assert_eq!(b.ray_entry(Vec2::ZERO, Vec2::new(-1.0, 0.0)), None);
        assert_eq!(b.ray_entry(Vec2::ZERO, Vec2::new(0.0, 1.0)), None);
        assert_eq!(
            b.ray_entry(Vec2::new(10.0, 0.0), Vec2::new(1.0, 0.0)),
            Some(0.0)
        );
    }

    #[test]
    fn ray_hits_segment_between_its_ends() {
        let s = Segment::new(Vec2::new(5.0, -1.0), Vec2::new(5.0, 1.0));
        assert_eq!(s.ray_hit(Vec2::ZERO, Vec2::new(1.0, 0.0)), Some(5.0));
        assert_eq!(s.ray_hit(Vec2::ZERO, Vec2::from_angle(0.5)), None);
        let c = s.closest_point(Vec2::new(0.0, 3.0));
        assert_eq!(c, Vec2::new(5.0, 1.0));
    }
}
