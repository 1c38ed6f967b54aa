//! What a controller may see: a fixed-length `f32` vector, and the spec that names its elements.
//!
//! Layout, for a lidar of N beams: for each beam `i` in order, four elements —
//! `ray{i}.distance_m`, then one-hot `ray{i}.vehicle`, `ray{i}.pedestrian`, `ray{i}.edge` (all
//! zero when the beam hit nothing) — followed by the car's own state and what a map gives about
//! the road: `speed_mps`, `lane_offset_m`, `heading_error_rad`, `kerb_left_m`, `kerb_right_m`,
//! and `curvature_{10,25,50}m_per_m` (road curvature that far ahead along the road).
//! Nothing else: no actor positions, no speeds of others, no sensor-fault flag.

use std::sync::Arc;

/// Per-beam elements, in order.
pub const RAY_FIELDS: [&str; 4] = ["distance_m", "vehicle", "pedestrian", "edge"];
/// Distances ahead at which road curvature is reported (m).
pub const CURVATURE_LOOKAHEAD_M: [f64; 3] = [10.0, 25.0, 50.0];
/// Elements after the beams, in order.
pub const EGO_FIELDS: [&str; 8] = [
    "speed_mps",
    "lane_offset_m",
    "heading_error_rad",
    "kerb_left_m",
    "kerb_right_m",
    "curvature_10m_per_m",
    "curvature_25m_per_m",
    "curvature_50m_per_m",
];

/// Names every element of the observation vector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObservationSpec {
    beams: usize,
    names: Vec<String>,
}

impl ObservationSpec {
    /// The layout for a lidar of `beams` beams.
    pub fn new(beams: usize) -> Self {
        let mut names = Vec::with_capacity(beams * RAY_FIELDS.len() + EGO_FIELDS.len());
        for i in 0..beams {
            for field in RAY_FIELDS {
                names.push(format!("ray{i}.{field}"));
            }
        }
        names.extend(EGO_FIELDS.iter().map(|s| (*s).to_owned()));
        Self { beams, names }
    }

    /// Number of lidar beams.
    pub fn beams(&self) -> usize {
        self.beams
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the vector is empty (never, for a valid lidar).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Name of every element, in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Index of the element called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Index of beam `beam`'s distance.
    pub fn ray_distance(&self, beam: usize) -> usize {
        assert!(beam < self.beams);
        beam * RAY_FIELDS.len()
    }

    /// Index of the first element after the beams (`speed_mps`).
    pub fn ego_start(&self) -> usize {
        self.beams * RAY_FIELDS.len()
    }
}

/// One observation: the values and the layout they follow.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    spec: Arc<ObservationSpec>,
    values: Vec<f32>,
}

impl Observation {
    /// All zeros in the given layout.
    pub fn zeros(spec: Arc<ObservationSpec>) -> Self {
        let values = vec![0.0; spec.len()];
        Self { spec, values }
    }

    /// The layout.
    pub fn spec(&self) -> &Arc<ObservationSpec> {
        &self.spec
    }

    /// The values, in layout order.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Replaces the values, e.g. to replay recorded observations or feed probe inputs.
    pub fn copy_from(&mut self, values: &[f32]) {
        assert_eq!(values.len(), self.values.len(), "observation length");
        self.values.copy_from_slice(values);
    }

    /// Mutable values, for the world that fills them.
    pub(crate) fn values_mut(&mut self) -> &mut [f32] {
        &mut self.values
    }

    /// The value called `name`.
    pub fn get(&self, name: &str) -> Option<f32> {
        self.spec.index_of(name).map(|i| self.values[i])
    }

    /// Beam `beam`'s reported distance (m).
    pub fn ray_distance_m(&self, beam: usize) -> f32 {
        self.values[self.spec.ray_distance(beam)]
    }

    /// The car's own speed (m/s).
    pub fn speed_mps(&self) -> f32 {
        self.values[self.spec.ego_start()]
    }

    /// Offset from the centre of the lane the car is in, positive to the left (m).
    pub fn lane_offset_m(&self) -> f32 {
        self.values[self.spec.ego_start() + 1]
    }

    /// Heading minus the road's heading (rad).
    pub fn heading_error_rad(&self) -> f32 {
        self.values[self.spec.ego_start() + 2]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_documented_layout() {
        let spec = ObservationSpec::new(32);
        assert_eq!(spec.len(), 32 * 4 + 8);
        assert_eq!(spec.index_of("ray7.distance_m"), Some(28));
        assert_eq!(spec.index_of("ray7.pedestrian"), Some(30));
        assert_eq!(spec.index_of("speed_mps"), Some(128));
        assert_eq!(spec.index_of("curvature_50m_per_m"), Some(135));
        assert_eq!(spec.ray_distance(7), 28);
    }
}
