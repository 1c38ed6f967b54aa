//! Actions as networks see them: steering and acceleration mapped to [-1, 1] through `tanh`,
//! so whatever a network outputs lands inside the car's physical limits.

use memdrive_sim::Controls;
use memdrive_sim::vehicle::VehicleLimits;

/// Largest |normalised target| used for training: `atanh` of it stays finite.
const TARGET_CLIP: f32 = 0.98;

/// Maps controls to and from the network's output space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ActionScale {
    steer_half_range_rad: f32,
    accel_mid_mps2: f32,
    accel_half_range_mps2: f32,
}

impl Default for ActionScale {
    fn default() -> Self {
        Self::new(&VehicleLimits::default())
    }
}

impl ActionScale {
    /// The scale for a car with these limits.
    pub fn new(limits: &VehicleLimits) -> Self {
        Self {
            steer_half_range_rad: limits.max_steer_rad as f32,
            accel_mid_mps2: 0.5 * (limits.max_accel_mps2 + limits.min_accel_mps2) as f32,
            accel_half_range_mps2: 0.5 * (limits.max_accel_mps2 - limits.min_accel_mps2) as f32,
        }
    }

    /// Controls from raw network outputs (pre-`tanh`), always within the limits.
    pub fn controls(&self, raw: [f32; 2]) -> Controls {
        Controls {
            steer_rad: f64::from(raw[0].tanh() * self.steer_half_range_rad),
            accel_mps2: f64::from(self.accel_mid_mps2 + raw[1].tanh() * self.accel_half_range_mps2),
        }
    }

    /// Controls mapped to [-1, 1] (clipped to ±0.98), as training targets after `tanh`.
    pub fn squashed(&self, c: Controls) -> [f32; 2] {
        [
            (c.steer_rad as f32 / self.steer_half_range_rad).clamp(-TARGET_CLIP, TARGET_CLIP),
            ((c.accel_mps2 as f32 - self.accel_mid_mps2) / self.accel_half_range_mps2)
                .clamp(-TARGET_CLIP, TARGET_CLIP),
        ]
    }

    /// The raw outputs (pre-`tanh`) that produce `c`, for regressions fitted before the squash.
    pub fn raw(&self, c: Controls) -> [f32; 2] {
        self.squashed(c).map(f32::atanh)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_round_trip_through_the_raw_space() {
        let scale = ActionScale::default();
        let c = Controls {
            steer_rad: -0.2,
            accel_mps2: 1.5,
        };
        let back = scale.controls(scale.raw(c));
        assert!((back.steer_rad + 0.2).abs() < 1e-5 && (back.accel_mps2 - 1.5).abs() < 1e-5);
        // Any raw output lands inside the limits: -8..3 m/s², ±0.6 rad.
        let extreme = scale.controls([1e9, -1e9]);
        assert!(extreme.steer_rad <= 0.6 + 1e-6 && extreme.accel_mps2 >= -8.0 - 1e-6);
    }
}
