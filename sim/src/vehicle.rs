//! The ego car: a kinematic bicycle model with clamped controls.

use crate::geometry::{OrientedBox, Pose, Vec2, wrap_angle};

/// What a controller asks of the car for one control step.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Controls {
    /// Front-wheel steering angle, positive to the left (rad).
    pub steer_rad: f64,
    /// Longitudinal acceleration (m/s²); negative brakes.
    pub accel_mps2: f64,
}

/// Physical limits and dimensions of the ego car.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct VehicleLimits {
    /// Distance between the axles (m).
    pub wheelbase_m: f64,
    /// Body length (m).
    pub length_m: f64,
    /// Body width (m).
    pub width_m: f64,
    /// Distance from the rear axle forward to the centre of the body (m).
    pub rear_axle_to_center_m: f64,
    /// Largest steering angle either way (rad).
    pub max_steer_rad: f64,
    /// Strongest braking (m/s², negative).
    pub min_accel_mps2: f64,
    /// Strongest acceleration (m/s²).
    pub max_accel_mps2: f64,
    /// Top speed (m/s).
    pub max_speed_mps: f64,
}

impl Default for VehicleLimits {
    fn default() -> Self {
        Self {
            wheelbase_m: 2.7,
            length_m: 4.5,
            width_m: 1.8,
            rear_axle_to_center_m: 1.35,
            max_steer_rad: 0.6,
            min_accel_mps2: -8.0,
            max_accel_mps2: 3.0,
            max_speed_mps: 30.0,
        }
    }
}

impl VehicleLimits {
    /// Controls clamped to the limits; a non-finite request becomes straight-ahead full braking,
    /// so a broken controller stops the car instead of poisoning the simulation.
    pub fn clamp(&self, controls: Controls) -> Controls {
        if !controls.steer_rad.is_finite() || !controls.accel_mps2.is_finite() {
            return Controls {
                steer_rad: 0.0,
                accel_mps2: self.min_accel_mps2,
            };
        }
        Controls {
            steer_rad: controls
                .steer_rad
                .clamp(-self.max_steer_rad, self.max_steer_rad),
            accel_mps2: controls
                .accel_mps2
                .clamp(self.min_accel_mps2, self.max_accel_mps2),
        }
    }
}

/// State of the ego car. The reference point is the middle of the rear axle.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EgoState {
    /// Rear-axle position and heading.
    pub pose: Pose,
    /// Forward speed (m/s), never negative.
    pub speed_mps: f64,
    /// Steering angle applied in the last step (rad).
    pub steer_rad: f64,
    /// Acceleration achieved in the last step (m/s²), after clamping at zero speed.
    pub accel_mps2: f64,
}

impl EgoState {
    /// Centre of the body in the world.
    pub fn center(&self, limits: &VehicleLimits) -> Vec2 {
        self.pose.pos_in_world
            + Vec2::from_angle(self.pose.heading_rad) * limits.rear_axle_to_center_m
    }

    /// The body as a box.
    pub fn body(&self, limits: &VehicleLimits) -> OrientedBox {
        OrientedBox::new(
            Pose {
                pos_in_world: self.center(limits),
                heading_rad: self.pose.heading_rad,
            },
            limits.length_m,
            limits.width_m,
        )
    }

    /// Advances the bicycle model by `dt_secs` in `substeps` equal Euler steps with controls
    /// already clamped to `limits`.
    pub fn advance(
        &mut self,
        controls: Controls,
        limits: &VehicleLimits,
        dt_secs: f64,
        substeps: u32,
    ) {
        let h = dt_secs / f64::from(substeps);
        let tan_steer = controls.steer_rad.tan();
        let speed_before = self.speed_mps;
        for _ in 0..substeps {
            let v0 = self.speed_mps;
            let v1 = (v0 + controls.accel_mps2 * h).clamp(0.0, limits.max_speed_mps);
            // Trapezoidal speed within the substep keeps stopping distances exact.
            let v = 0.5 * (v0 + v1);
            let heading = self.pose.heading_rad;
            let mid_heading = heading + 0.5 * v * tan_steer / limits.wheelbase_m * h;
            self.pose.pos_in_world += Vec2::from_angle(mid_heading) * (v * h);
            self.pose.heading_rad = wrap_angle(heading + v * tan_steer / limits.wheelbase_m * h);
            self.speed_mps = v1;
        }
        self.steer_rad = controls.steer_rad;
        self.accel_mps2 = (self.speed_mps - speed_before) / dt_secs;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_controls_and_rejects_nan() {
        let limits = VehicleLimits::default();
        let c = limits.clamp(Controls {
            steer_rad: 2.0,
            accel_mps2: -20.0,
        });
        assert_eq!(c.steer_rad, 0.6);
        assert_eq!(c.accel_mps2, -8.0);
        let c = limits.clamp(Controls {
            steer_rad: f64::NAN,
            accel_mps2: 1.0,
        });
        assert_eq!(
            c,
            Controls {
                steer_rad: 0.0,
                accel_mps2: -8.0
            }
        );
    }

    #[test]
    fn braking_stops_in_the_textbook_distance_and_never_reverses() {
        // v² / (2a) = 10² / 16 = 6.25 m.
        let limits = VehicleLimits::default();
        let mut ego = EgoState {
            speed_mps: 10.0,
            ..EgoState::default()
        };
        let brake = Controls {
            steer_rad: 0.0,
            accel_mps2: -8.0,
        };
        for _ in 0..30 {
            ego.advance(brake, &limits, 0.1, 4);
        }
        assert_eq!(ego.speed_mps, 0.0);
        assert!(
            (ego.pose.pos_in_world.x - 6.25).abs() < 0.05,
            "{:?}",
            ego.pose
        );
    }

    #[test]
    fn constant_steering_drives_a_circle_of_the_bicycle_radius() {
        // R = L / tan(δ) = 2.7 / tan(0.3) = 8.71 m; a full circle returns to the start.
        let limits = VehicleLimits::default();
        let mut ego = EgoState {
            speed_mps: 5.0,
            ..EgoState::default()
        };
        let radius = 2.7 / 0.3_f64.tan();
        let steps = (std::f64::consts::TAU * radius / 5.0 / 0.1).round() as usize;
        let mut max_err: f64 = 0.0;
        for _ in 0..steps {
            ego.advance(
                Controls {
                    steer_rad: 0.3,
                    accel_mps2: 0.0,
                },
                &limits,
                0.1,
                4,
            );
            let from_center = ego.pose.pos_in_world - Vec2::new(0.0, radius);
            max_err = max_err.max((from_center.length() - radius).abs());
        }
        assert!(max_err < 0.01, "radius error {max_err}");
    }
}
