//! Why a model configuration, or the contents of a weight file, cannot be used: one typed
//! error whose message names the field, key or tensor. The loaders wrap it with the file's
//! path (`Error::Invalid`), training with what it was asked (`Error::Training`).

/// What is wrong, and where.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Invalid {
    /// A number outside the range its field allows.
    #[error("{field} must be between {low} and {high}, got {value}")]
    OutOfRange {
        /// The field.
        field: String,
        /// Its lowest value, as written.
        low: String,
        /// Its highest value.
        high: String,
        /// What it was.
        value: String,
    },
    /// A number that must be above `low` and at most `high`.
    #[error("{field} must be above {low} and at most {high}, got {value}")]
    NotAbove {
        /// The field.
        field: String,
        /// What it must exceed.
        low: String,
        /// Its highest value.
        high: String,
        /// What it was.
        value: String,
    },
    /// Sizes whose product is more work or memory than allowed.
    #[error("{what} is {product}, more than {limit} ({why})")]
    TooMuch {
        /// The product, in words ("batch × window × hidden").
        what: String,
        /// Its value.
        product: usize,
        /// The most allowed.
        limit: usize,
        /// What it sizes.
        why: &'static str,
    },
    /// Two fields that do not fit together.
    #[error("{0}")]
    Inconsistent(String),
    /// The configuration of a kind, with what is wrong in it.
    #[error("{kind} config: {problem}")]
    Config {
        /// The kind's title ("GRU").
        kind: &'static str,
        /// What is wrong.
        problem: Box<Invalid>,
    },
    /// JSON that is not a configuration of this kind (an unknown field, a wrong type).
    #[error("not a configuration for the {kind}: {message}")]
    NotConfig {
        /// The kind's title.
        kind: &'static str,
        /// What the parser found.
        message: String,
    },
    /// A metadata key of a weight file, with what is wrong in it.
    #[error("metadata `{key}`: {problem}")]
    Metadata {
        /// The key.
        key: &'static str,
        /// What is wrong.
        problem: Box<Invalid>,
    },
    /// A tensor the model needs is not in the file.
    #[error("tensor {0} is missing")]
    MissingTensor(String),
    /// A tensor of the wrong shape.
    #[error("tensor {name} has shape {found:?}, expected {expected:?}")]
    Shape {
        /// The tensor.
        name: String,
        /// Its shape in the file.
        found: Vec<usize>,
        /// The shape the configuration implies.
        expected: Vec<usize>,
    },
    /// A tensor that is not part of the model.
    #[error("tensor {name} is not part of a {kind} model")]
    ExtraTensor {
        /// The tensor.
        name: String,
        /// The kind's id.
        kind: &'static str,
    },
    /// A tensor holding a value it must not.
    #[error("tensor {name} must be {must}, got {value} at index {index}")]
    BadValue {
        /// The tensor.
        name: String,
        /// What every value must be ("positive").
        must: &'static str,
        /// The first value that is not.
        value: f32,
        /// Where.
        index: usize,
    },
    /// A key named twice in a JSON object (the parser's message, naming it).
    #[error("{0}")]
    DuplicateKey(String),
    /// A model's observation layout that is not the simulator's.
    #[error("observation layout: {0}")]
    Layout(String),
    /// A name that is not a kind of learned controller.
    #[error("unknown model kind `{id}` (known: {known})")]
    UnknownKind {
        /// The name given.
        id: String,
        /// The kinds there are.
        known: String,
    },
}

impl Invalid {
    /// This problem, found in the configuration of kind `kind`.
    pub fn in_config(self, kind: &'static str) -> Self {
        Self::Config {
            kind,
            problem: Box::new(self),
        }
    }

    /// This problem, found in the metadata key `key`.
    pub fn in_metadata(self, key: &'static str) -> Self {
        Self::Metadata {
            key,
            problem: Box::new(self),
        }
    }
}
