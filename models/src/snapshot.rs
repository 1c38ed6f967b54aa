//! What a controller holds at one moment, as plain data for drawing and measuring: tiers of
//! memory, each a list of named vectors and matrices whose axes say what they index. The app
//! draws any kind from it, choosing its views by what a snapshot contains (an attention over
//! frame ages, a gate), never by the kind's name; the instruments read the array marked
//! [`Role::State`].

/// Where a piece of memory lives, as the app names the tiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TierKind {
    /// What training stored in the weights: the same at every step (drawn from the weight
    /// file; a controller's snapshot leaves it out).
    LongTerm,
    /// Numbers carried from one step to the next, changed a little at every step.
    ShortTerm,
    /// An exact window of recent frames, each gone at once when it falls out.
    Working,
    /// Connection strengths changed while acting (a plastic network's Hebbian trace), carried
    /// from one step to the next.
    Synaptic,
}

impl TierKind {
    /// The heading the app gives the tier.
    pub fn title(self) -> &'static str {
        match self {
            Self::LongTerm => "Long-term memory (weights)",
            Self::ShortTerm => "Short-term memory (state)",
            Self::Working => "Working memory (context window)",
            Self::Synaptic => "Short-term memory (synapses)",
        }
    }

    /// One sentence on what the tier is.
    pub fn about(self) -> &'static str {
        match self {
            Self::LongTerm => {
                "What training stored in the weights: the same at every step, and Forget does not touch it."
            }
            Self::ShortTerm => {
                "Numbers carried from one step to the next; each step decides how much of them is kept."
            }
            Self::Working => {
                "The last K frames, read exactly; a frame older than K steps is gone at once."
            }
            Self::Synaptic => {
                "Connections that change while it drives: units active together strengthen (or, when the neuromodulator is negative, weaken) the synapse between them, and what was seen stays written there."
            }
        }
    }
}

/// What an array is for, when a view or an instrument is made for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The controller's state vector, as the memory instruments read it (row-major).
    State,
    /// A gate: per unit, the share of the old state kept this step.
    Kept,
    /// The newest frame's attention over the frames held: rows are heads, columns frame ages
    /// (0 = now), one column per frame held.
    Attention,
    /// A vector worth watching over time (drawn as a heatmap of its last steps).
    OverTime,
    /// A vector drawn as bars, in its order (a spectrum, a ranking).
    Bars,
    /// Shown as it is.
    Plain,
}

/// One axis of an array: what it indexes, in what unit, and its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Axis {
    /// What one index is, singular ("unit", "head", "frame age").
    pub name: &'static str,
    /// The unit of the index, if it has one ("steps").
    pub unit: &'static str,
    /// How many.
    pub len: usize,
}

impl Axis {
    /// An axis of `len` `name`s.
    pub fn new(name: &'static str, len: usize) -> Self {
        Self {
            name,
            unit: "",
            len,
        }
    }

    /// The same axis measured in `unit`.
    pub fn in_unit(self, unit: &'static str) -> Self {
        Self { unit, ..self }
    }
}

/// A named vector (one axis) or matrix (two, row-major) of memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Array {
    /// Its name, as code refers to it ("hidden").
    pub name: &'static str,
    /// Its name as shown ("Hidden state").
    pub label: &'static str,
    /// What it is for.
    pub role: Role,
    /// Its axes, outermost first.
    pub axes: Vec<Axis>,
    /// True when its values have a sign that matters (drawn blue < 0 < orange), false for
    /// values in [0, 1].
    pub signed: bool,
    /// The values, row-major.
    pub data: Vec<f32>,
}

impl Array {
    /// A vector along `axis`.
    pub fn vector(
        name: &'static str,
        label: &'static str,
        role: Role,
        axis: Axis,
        signed: bool,
        data: Vec<f32>,
    ) -> Self {
        debug_assert_eq!(axis.len, data.len());
        Self {
            name,
            label,
            role,
            axes: vec![axis],
            signed,
            data,
        }
    }

    /// A matrix of `rows` by `cols`, row-major.
    pub fn matrix(
        name: &'static str,
        label: &'static str,
        role: Role,
        [rows, cols]: [Axis; 2],
        signed: bool,
        data: Vec<f32>,
    ) -> Self {
        debug_assert_eq!(rows.len * cols.len, data.len());
        Self {
            name,
            label,
            role,
            axes: vec![rows, cols],
            signed,
            data,
        }
    }

    /// Row `r` of a matrix (the whole vector for `r = 0` of a vector).
    pub fn row(&self, r: usize) -> &[f32] {
        let cols = self.axes.get(1).map_or(self.data.len(), |a| a.len);
        self.data.get(r * cols..(r + 1) * cols).unwrap_or_default()
    }
}

/// One tier of a controller's memory now.
#[derive(Clone, Debug, PartialEq)]
pub struct Tier {
    /// Which tier.
    pub kind: TierKind,
    /// Numbers carried from this step to the next in this tier.
    pub carried: usize,
    /// A line on what this controller keeps here, when the arrays do not say it.
    pub note: Option<&'static str>,
    /// What it holds.
    pub arrays: Vec<Array>,
}

/// A controller's memory now: its tiers.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemorySnapshot {
    /// The tiers, outermost (longest-lived) first.
    pub tiers: Vec<Tier>,
}

impl MemorySnapshot {
    /// A snapshot of one tier.
    pub fn of(tier: Tier) -> Self {
        Self { tiers: vec![tier] }
    }

    /// Every array, tier by tier.
    pub fn arrays(&self) -> impl Iterator<Item = &Array> {
        self.tiers.iter().flat_map(|t| &t.arrays)
    }

    /// The array called `name`.
    pub fn array(&self, name: &str) -> Option<&Array> {
        self.arrays().find(|a| a.name == name)
    }

    /// The first array with `role`.
    pub fn with_role(&self, role: Role) -> Option<&Array> {
        self.arrays().find(|a| a.role == role)
    }

    /// The state vector the memory instruments read (empty when there is none).
    pub fn state(&self) -> &[f32] {
        self.with_role(Role::State).map_or(&[], |a| &a.data)
    }

    /// Numbers carried from this step to the next, over every tier.
    pub fn carried(&self) -> usize {
        self.tiers.iter().map(|t| t.carried).sum()
    }

    /// Frames held in a window, for a controller that attends over frames by age.
    pub fn frames_held(&self) -> Option<usize> {
        self.with_role(Role::Attention)
            .and_then(|a| a.axes.get(1))
            .map(|a| a.len)
    }
}
