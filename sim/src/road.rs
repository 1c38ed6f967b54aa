//! The road: a centreline of straight and circular pieces, its lanes, its Frenet frame and the
//! walls that bound the street.
//!
//! Frenet coordinates: `s_m` is the distance along the centreline from its start, `d_m` the
//! signed offset across it, positive to the left of the direction of travel. All lanes run in
//! the direction of increasing `s`; lane 0 is the rightmost. Beyond each kerb lies a verge
//! (pavement, parking) of `verge_m`, ending in a wall that stops lidar rays.

use crate::geometry::{Pose, Segment, Vec2};

/// Largest angle one wall segment may turn through on a curve; keeps the chord within a few
/// centimetres of the true arc for the radii roads use.
pub(crate) const WALL_SEGMENT_MAX_TURN_RAD: f64 = 0.05;

/// One piece of centreline: straight when `curvature_per_m` is zero, otherwise a circular arc
/// (positive curvature turns left).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Piece {
    /// Distance along the road where the piece starts (m).
    pub start_s_m: f64,
    /// Length of the piece (m).
    pub length_m: f64,
    /// Signed curvature (1/m), positive to the left.
    pub curvature_per_m: f64,
    /// Pose of the centreline at the start of the piece.
    pub start: Pose,
    /// Unit vector of the start heading (cached: straights need no trigonometry).
    start_dir: Vec2,
}

impl Piece {
    /// Position and unit tangent at local distance `t`.
    fn frame_at_local(&self, t: f64) -> (Vec2, Vec2) {
        let k = self.curvature_per_m;
        if k.abs() < 1e-12 {
            return (self.start.pos_in_world + self.start_dir * t, self.start_dir);
        }
        let pose = self.pose_at_local(t);
        (pose.pos_in_world, Vec2::from_angle(pose.heading_rad))
    }

    fn pose_at_local(&self, t: f64) -> Pose {
        let h0 = self.start.heading_rad;
        let k = self.curvature_per_m;
        if k.abs() < 1e-12 {
            return Pose {
                pos_in_world: self.start.pos_in_world + self.start_dir * t,
                heading_rad: h0,
            };
        }
        let h = h0 + k * t;
        let offset = Vec2::new((h.sin() - h0.sin()) / k, -(h.cos() - h0.cos()) / k);
        Pose {
            pos_in_world: self.start.pos_in_world + offset,
            heading_rad: h,
        }
    }

    /// Projects `p` onto this piece: (local distance along it, signed offset, squared distance
    /// from `p` to the projected centreline point). The local distance is clamped to the piece.
    fn project(&self, p: Vec2) -> (f64, f64, f64) {
        let k = self.curvature_per_m;
        let start = self.start.pos_in_world;
        let dir = Vec2::from_angle(self.start.heading_rad);
        if k.abs() < 1e-12 {
            let rel = p - start;
            let t = rel.dot(dir).clamp(0.0, self.length_m);
            let foot = start + dir * t;
            return (t, dir.cross(p - foot), (p - foot).length_sq());
        }
        let radius = 1.0 / k.abs();
        let center = start + dir.perp() * (1.0 / k);
        let from_center = p - center;
        let start_rel = start - center;
        // Angle swept from the start in the direction of travel (CCW for left turns).
        let swept = (start_rel.cross(from_center)).atan2(start_rel.dot(from_center)) * k.signum();
        let swept = if swept < -0.5 * (std::f64::consts::TAU - self.length_m * k.abs()) {
            swept + std::f64::consts::TAU
        } else {
            swept
        };
        let t = (swept * radius).clamp(0.0, self.length_m);
        let foot = self.pose_at_local(t);
        let rel = p - foot.pos_in_world;
        let d = Vec2::from_angle(foot.heading_rad).cross(rel);
        (t, d, rel.length_sq())
    }
}

/// Signed position in the road's Frenet frame.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Frenet {
    /// Distance along the centreline (m).
    pub s_m: f64,
    /// Offset across, positive to the left (m).
    pub d_m: f64,
}

/// A wall segment beside the road, with the stretch of centreline it runs along.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wall {
    /// The segment in the world.
    pub segment: Segment,
    /// Centreline distance where it starts (m).
    pub start_s_m: f64,
    /// Centreline distance where it ends (m).
    pub end_s_m: f64,
}

/// A road with its lanes, verges and walls.
#[derive(Clone, Debug)]
pub struct Road {
    lane_count: usize,
    lane_width_m: f64,
    verge_m: f64,
    pieces: Vec<Piece>,
    length_m: f64,
    walls: Vec<Wall>,
}

impl Road {
    /// Builds a road starting at the origin heading east. `pieces` are (length, curvature).
    ///
    /// Callers validate user input first (see `scenario`); these are invariants.
    pub fn new(lane_count: usize, lane_width_m: f64, verge_m: f64, pieces: &[(f64, f64)]) -> Self {
        assert!(lane_count >= 1 && lane_width_m > 0.0 && verge_m >= 0.0);
        assert!(!pieces.is_empty());
        let mut built = Vec::with_capacity(pieces.len());
        let mut start = Pose::default();
        let mut s = 0.0;
        for &(length_m, curvature_per_m) in pieces {
            assert!(length_m > 0.0);
            let piece = Piece {
                start_s_m: s,
                length_m,
                curvature_per_m,
                start,
                start_dir: Vec2::from_angle(start.heading_rad),
            };
            start = piece.pose_at_local(length_m);
            s += length_m;
            built.push(piece);
        }
        let mut road = Self {
            lane_count,
            lane_width_m,
            verge_m,
            pieces: built,
            length_m: s,
            walls: Vec::new(),
        };
        road.walls = road.build_walls();
        road
    }

    fn build_walls(&self) -> Vec<Wall> {
        let offset = self.half_width_m() + self.verge_m;
        let mut walls = Vec::new();
        for side in [-1.0, 1.0] {
            for piece in &self.pieces {
                let turn = piece.curvature_per_m.abs() * piece.length_m;
                let count = (turn / WALL_SEGMENT_MAX_TURN_RAD).ceil().max(1.0) as usize;
                let step = piece.length_m / count as f64;
                for i in 0..count {
                    let s0 = piece.start_s_m + step * i as f64;
                    let s1 = s0 + step;
                    walls.push(Wall {
                        segment: Segment::new(
                            self.point_at(s0, side * offset),
                            self.point_at(s1, side * offset),
                        ),
                        start_s_m: s0,
                        end_s_m: s1,
                    });
                }
            }
        }
        walls
    }

    /// Number of lanes.
    pub fn lane_count(&self) -> usize {
        self.lane_count
    }

    /// Width of one lane (m).
    pub fn lane_width_m(&self) -> f64 {
        self.lane_width_m
    }

    /// Width of the verge between kerb and wall on each side (m).
    pub fn verge_m(&self) -> f64 {
        self.verge_m
    }

    /// Total centreline length (m).
    pub fn length_m(&self) -> f64 {
        self.length_m
    }

    /// Half the width of the carriageway, kerb to centreline (m).
    pub fn half_width_m(&self) -> f64 {
        0.5 * self.lane_width_m * self.lane_count as f64
    }

    /// The pieces of the centreline, in order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// Wall segments on both sides.
    pub fn walls(&self) -> &[Wall] {
        &self.walls
    }

    /// Offset of the centre of `lane` (m).
    pub fn lane_center_d_m(&self, lane: usize) -> f64 {
        -self.half_width_m() + (lane as f64 + 0.5) * self.lane_width_m
    }

    /// The lane whose strip contains offset `d_m`, if it is on the carriageway.
    pub fn lane_at(&self, d_m: f64) -> Option<usize> {
        let x = (d_m + self.half_width_m()) / self.lane_width_m;
        (x >= 0.0 && x < self.lane_count as f64).then_some(x as usize)
    }

    fn piece_index(&self, s_m: f64) -> usize {
        let i = self.pieces.partition_point(|p| p.start_s_m <= s_m);
        i.saturating_sub(1)
    }

    /// Centreline pose at distance `s_m`; beyond either end the end pieces are extended.
    pub fn center_pose_at(&self, s_m: f64) -> Pose {
        let piece = &self.pieces[self.piece_index(s_m)];
        let t = s_m - piece.start_s_m;
        if t > piece.length_m || t < 0.0 {
            // Extend straight beyond the ends so actors leaving the road stay well defined.
            let edge_t = t.clamp(0.0, piece.length_m);
            let edge = piece.pose_at_local(edge_t);
            return Pose {
                pos_in_world: edge.pos_in_world + Vec2::from_angle(edge.heading_rad) * (t - edge_t),
                heading_rad: edge.heading_rad,
            };
        }
        piece.pose_at_local(t)
    }

    /// World position of the Frenet point (`s_m`, `d_m`) and the unit tangent of the road there.
    pub fn frame_at(&self, s_m: f64, d_m: f64) -> (Vec2, Vec2) {
        let piece = &self.pieces[self.piece_index(s_m)];
        let t = s_m - piece.start_s_m;
        let (center, dir) = if (0.0..=piece.length_m).contains(&t) {
            piece.frame_at_local(t)
        } else {
            let pose = self.center_pose_at(s_m);
            (pose.pos_in_world, Vec2::from_angle(pose.heading_rad))
        };
        (center + dir.perp() * d_m, dir)
    }

    /// World pose of the Frenet point (`s_m`, `d_m`), heading along the lane.
    pub fn pose_at(&self, s_m: f64, d_m: f64) -> Pose {
        let c = self.center_pose_at(s_m);
        Pose {
            pos_in_world: c.pos_in_world + Vec2::from_angle(c.heading_rad).perp() * d_m,
            heading_rad: c.heading_rad,
        }
    }

    /// World position of the Frenet point (`s_m`, `d_m`).
    pub fn point_at(&self, s_m: f64, d_m: f64) -> Vec2 {
        self.pose_at(s_m, d_m).pos_in_world
    }

    /// Centreline curvature at `s_m` (1/m); zero beyond the ends.
    pub fn curvature_at(&self, s_m: f64) -> f64 {
        if s_m < 0.0 || s_m > self.length_m {
            return 0.0;
        }
        self.pieces[self.piece_index(s_m)].curvature_per_m
    }

    /// Frenet coordinates of a world point: the nearest centreline point over all pieces.
    pub fn project(&self, p: Vec2) -> Frenet {
        self.project_among(p, &self.pieces)
    }

    /// Like `project`, for a point known to be near distance `hint_s_m` along the road (within
    /// a piece of it): only that piece and its neighbours are searched.
    pub fn project_near(&self, p: Vec2, hint_s_m: f64) -> Frenet {
        let i = self.piece_index(hint_s_m);
        let range = i.saturating_sub(1)..(i + 2).min(self.pieces.len());
        self.project_among(p, &self.pieces[range])
    }

    fn project_among(&self, p: Vec2, pieces: &[Piece]) -> Frenet {
        let mut best = (f64::INFINITY, Frenet::default());
        for piece in pieces {
            let (t, d, dist_sq) = piece.project(p);
            if dist_sq < best.0 {
                best = (
                    dist_sq,
                    Frenet {
                        s_m: piece.start_s_m + t,
                        d_m: d,
                    },
                );
            }
        }
        // Before the start or after the end the clamped projection misreports s: extend.
        let f = best.1;
        for (edge_s, sign) in [(0.0, -1.0), (self.length_m, 1.0)] {
            if (f.s_m - edge_s).abs() < 1e-9 {
                let pose = self.center_pose_at(edge_s);
                let dir = Vec2::from_angle(pose.heading_rad);
                let along = (p - pose.pos_in_world).dot(dir);
                if along * sign > 0.0 {
                    return Frenet {
                        s_m: edge_s + along,
                        d_m: dir.cross(p - pose.pos_in_world),
                    };
                }
            }
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn curvy() -> Road {
        Road::new(
            2,
            3.5,
            4.0,
            &[
                (50.0, 0.0),
                (80.0, 1.0 / 60.0),
                (40.0, 0.0),
                (60.0, -1.0 / 80.0),
            ],
        )
    }

    #[test]
    fn projection_inverts_pose_at() {
        let road = curvy();
        for i in 0..=46 {
            let s = 5.0 * i as f64;
            for d in [-5.0, -1.75, 0.0, 2.0, 6.5] {
                let f = road.project(road.point_at(s, d));
                assert!((f.s_m - s).abs() < 1e-6, "s {s} d {d}: got {f:?}");
                assert!((f.d_m - d).abs() < 1e-6, "s {s} d {d}: got {f:?}");
            }
        }
    }

    #[test]
    fn nearby_projection_agrees_with_the_full_search() {
        let road = curvy();
        for i in 0..=230 {
            let s = i as f64;
            let p = road.point_at(s, 1.3);
            assert_eq!(road.project_near(p, s - 2.0), road.project(p), "at s {s}");
        }
    }

    #[test]
    fn arcs_turn_by_length_times_curvature() {
        let road = curvy();
        let h = road.center_pose_at(130.0).heading_rad;
        assert!((h - 80.0 / 60.0).abs() < 1e-9);
        // The centreline is continuous where pieces meet.
        let a = road.center_pose_at(130.0 - 1e-9).pos_in_world;
        let b = road.center_pose_at(130.0 + 1e-9).pos_in_world;
        assert!((a - b).length() < 1e-6);
    }

    #[test]
    fn lanes_are_numbered_from_the_right() {
        let road = curvy();
        assert_eq!(road.lane_center_d_m(0), -1.75);
        assert_eq!(road.lane_at(-1.0), Some(0));
        assert_eq!(road.lane_at(0.5), Some(1));
        assert_eq!(road.lane_at(3.6), None);
    }

    #[test]
    fn walls_follow_the_verge() {
        let road = curvy();
        for wall in road.walls() {
            let f = road.project(wall.segment.a);
            assert!((f.d_m.abs() - 7.5).abs() < 1e-6);
        }
    }
}
