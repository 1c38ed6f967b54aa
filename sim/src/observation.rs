//! What a controller may see: a fixed-length `f32` vector, and the spec that names its elements.
//!
//! Layout, for a lidar of N beams: for each beam `i` in order, four elements —
//! `ray{i}.distance_m`, then one-hot `ray{i}.vehicle`, `ray{i}.pedestrian`, `ray{i}.edge` (all
//! zero when the beam hit nothing) — followed by the car's own state and what a map gives about
//! the road: `speed_mps`, `lane_offset_m`, `heading_error_rad`, `kerb_left_m`, `kerb_right_m`,
//! and `curvature_{10,25,50}m_per_m` (road curvature that far ahead along the road).
//! Nothing else: no actor positions, no speeds of others, no sensor-fault flag.

use std::sync::Arc;

/// One field of every lidar beam.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RayField {
    /// Distance to what the beam hit, or the lidar's range (m).
    Distance,
    /// 1 when the beam hit a vehicle.
    Vehicle,
    /// 1 when it hit a pedestrian.
    Pedestrian,
    /// 1 when it hit the road's edge.
    Edge,
}

impl RayField {
    /// Every field, in layout order.
    pub const ALL: [Self; 4] = [Self::Distance, Self::Vehicle, Self::Pedestrian, Self::Edge];

    /// Its name after `ray{i}.`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Distance => "distance_m",
            Self::Vehicle => "vehicle",
            Self::Pedestrian => "pedestrian",
            Self::Edge => "edge",
        }
    }
}

/// The car's own state and what a map gives about the road.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EgoField {
    /// Speed (m/s).
    Speed,
    /// Offset from the centre of its lane, positive to the left (m).
    LaneOffset,
    /// Heading minus the road's heading (rad).
    HeadingError,
    /// Distance to the left kerb (m).
    KerbLeft,
    /// Distance to the right kerb (m).
    KerbRight,
    /// Road curvature 10 m ahead (1/m).
    Curvature10,
    /// Road curvature 25 m ahead (1/m).
    Curvature25,
    /// Road curvature 50 m ahead (1/m).
    Curvature50,
}

impl EgoField {
    /// Every field, in layout order.
    pub const ALL: [Self; 8] = [
        Self::Speed,
        Self::LaneOffset,
        Self::HeadingError,
        Self::KerbLeft,
        Self::KerbRight,
        Self::Curvature10,
        Self::Curvature25,
        Self::Curvature50,
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Speed => "speed_mps",
            Self::LaneOffset => "lane_offset_m",
            Self::HeadingError => "heading_error_rad",
            Self::KerbLeft => "kerb_left_m",
            Self::KerbRight => "kerb_right_m",
            Self::Curvature10 => "curvature_10m_per_m",
            Self::Curvature25 => "curvature_25m_per_m",
            Self::Curvature50 => "curvature_50m_per_m",
        }
    }
}

/// Distances ahead at which road curvature is reported (m), for `Curvature10` … `Curvature50`.
pub const CURVATURE_LOOKAHEAD_M: [f64; 3] = [10.0, 25.0, 50.0];

/// One element of the observation, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Element {
    /// A field of beam `.0`.
    Ray(usize, RayField),
    /// A field of the car's own state.
    Ego(EgoField),
}

impl Element {
    /// Its name in the layout (`ray7.distance_m`, `speed_mps`).
    pub fn name(self) -> String {
        match self {
            Self::Ray(beam, field) => format!("ray{beam}.{}", field.name()),
            Self::Ego(field) => field.name().to_owned(),
        }
    }
}

/// Names every element of the observation vector; every element is written and read through
/// it, by name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ObservationSpec {
    beams: usize,
    names: Vec<String>,
    /// Index of each beam's fields, in `RayField::ALL` order, looked up by name once.
    rays: Vec<[usize; 4]>,
    /// Index of each ego field, in `EgoField::ALL` order.
    ego: [usize; 8],
}

impl ObservationSpec {
    /// The layout for a lidar of `beams` beams.
    pub fn new(beams: usize) -> Self {
        let mut names = Vec::with_capacity(beams * RayField::ALL.len() + EgoField::ALL.len());
        for beam in 0..beams {
            names.extend(RayField::ALL.map(|f| Element::Ray(beam, f).name()));
        }
        names.extend(EgoField::ALL.map(|f| Element::Ego(f).name()));
        let at = |name: String| names.iter().position(|n| *n == name).unwrap_or(usize::MAX);
        let rays = (0..beams)
            .map(|beam| RayField::ALL.map(|f| at(Element::Ray(beam, f).name())))
            .collect();
        let ego = EgoField::ALL.map(|f| at(Element::Ego(f).name()));
        Self {
            beams,
            names,
            rays,
            ego,
        }
    }

    /// The layout of what `scenario`'s sensors give: the one place it is derived.
    pub fn of(scenario: &crate::ScenarioSpec) -> Self {
        Self::new(usize::try_from(scenario.lidar.beams).unwrap_or(0))
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

    /// Index of `element`.
    pub fn index(&self, element: Element) -> usize {
        match element {
            Element::Ray(beam, field) => self.rays[beam][field as usize],
            Element::Ego(field) => self.ego[field as usize],
        }
    }

    /// Index of beam `beam`'s distance.
    pub fn ray_distance(&self, beam: usize) -> usize {
        self.index(Element::Ray(beam, RayField::Distance))
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

    /// The value called `name`.
    pub fn get(&self, name: &str) -> Option<f32> {
        self.spec.index_of(name).map(|i| self.values[i])
    }

    /// The value of `element`.
    pub fn at(&self, element: Element) -> f32 {
        self.values[self.spec.index(element)]
    }

    /// Sets `element` (for the world that fills the observation).
    pub(crate) fn set(&mut self, element: Element, value: f32) {
        let i = self.spec.index(element);
        self.values[i] = value;
    }

    /// Beam `beam`'s reported distance (m).
    pub fn ray_distance_m(&self, beam: usize) -> f32 {
        self.at(Element::Ray(beam, RayField::Distance))
    }

    /// The car's own speed (m/s).
    pub fn speed_mps(&self) -> f32 {
        self.at(Element::Ego(EgoField::Speed))
    }

    /// Offset from the centre of the lane the car is in, positive to the left (m).
    pub fn lane_offset_m(&self) -> f32 {
        self.at(Element::Ego(EgoField::LaneOffset))
    }

    /// Heading minus the road's heading (rad).
    pub fn heading_error_rad(&self) -> f32 {
        self.at(Element::Ego(EgoField::HeadingError))
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
        assert_eq!(spec.index(Element::Ray(7, RayField::Pedestrian)), 30);
        assert_eq!(spec.index(Element::Ego(EgoField::Curvature50)), 135);
    }
}
