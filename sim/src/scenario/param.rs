//! `Param`: a number fixed or drawn from a range, which cannot hold a value it could not sample.

use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use serde::de::{self, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A number that is either fixed or drawn uniformly from `[low, high]` for each seed.
///
/// Its ends are finite, in order, and close enough to draw from, so `sample` never fails: a
/// value that breaks this cannot be built, deserialised or written in a scenario file.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Param {
    low: f64,
    high: f64,
}

/// Why a number or range cannot be a `Param`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// NaN or infinite.
    #[error("must be a finite number, got {}", compact(*.0))]
    NotFinite(f64),
    /// `[high, low]`.
    #[error("range [{}, {}] is reversed: write it [low, high]", compact(*.0), compact(*.1))]
    Reversed(f64, f64),
    /// The span overflows.
    #[error("range [{}, {}] is too wide to draw from", compact(*.0), compact(*.1))]
    TooWide(f64, f64),
}

impl Default for Param {
    fn default() -> Self {
        Self::ZERO
    }
}

impl Param {
    /// Always 0.
    pub const ZERO: Self = Self {
        low: 0.0,
        high: 0.0,
    };

    /// A range known when the program is written; use it in a `const`, so that bad ends stop
    /// the build instead of a run.
    pub const fn constant(low: f64, high: f64) -> Self {
        assert!(low.is_finite() && high.is_finite() && low <= high && high - low < 1e300);
        Self { low, high }
    }

    /// Always `value`.
    pub fn fixed(value: f64) -> Result<Self, ParamError> {
        Self::range(value, value)
    }

    /// Uniform between `low` and `high` (inclusive).
    pub fn range(low: f64, high: f64) -> Result<Self, ParamError> {
        for v in [low, high] {
            if !v.is_finite() {
                return Err(ParamError::NotFinite(v));
            }
        }
        if low > high {
            return Err(ParamError::Reversed(low, high));
        }
        // rand scales by the span divided by a number just below 1, so leave it headroom.
        if !((high - low) * 2.0).is_finite() {
            return Err(ParamError::TooWide(low, high));
        }
        Ok(Self { low, high })
    }

    /// Draws a value.
    pub fn sample(self, rng: &mut ChaCha8Rng) -> f64 {
        if self.low == self.high {
            self.low
        } else {
            rng.random_range(self.low..=self.high)
        }
    }

    /// The smallest value it can take.
    pub fn min(self) -> f64 {
        self.low
    }

    /// The largest value it can take.
    pub fn max(self) -> f64 {
        self.high
    }

    /// True when it is a range of more than one value.
    pub fn is_range(self) -> bool {
        self.low != self.high
    }
}

impl fmt::Display for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_range() {
            write!(f, "[{}, {}]", compact(self.low), compact(self.high))
        } else {
            f.write_str(&compact(self.low))
        }
    }
}

/// A number as a person wants to read it in a message: `1e308`, not 309 digits.
pub fn compact(value: f64) -> String {
    if value.is_finite() && value != 0.0 && !(1e-4..1e7).contains(&value.abs()) {
        format!("{value:e}")
    } else {
        format!("{value}")
    }
}

impl Serialize for Param {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.is_range() {
            [self.low, self.high].serialize(serializer)
        } else {
            serializer.serialize_f64(self.low)
        }
    }
}

impl<'de> Deserialize<'de> for Param {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ParamVisitor)
    }
}

struct ParamVisitor;

impl<'de> Visitor<'de> for ParamVisitor {
    type Value = Param;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a range [low, high]")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Param, E> {
        Param::fixed(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Param, E> {
        self.visit_f64(v as f64)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Param, E> {
        self.visit_f64(v as f64)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Param, A::Error> {
        let wrong = || de::Error::custom("a range has exactly two numbers: [low, high]");
        let low: f64 = seq.next_element()?.ok_or_else(wrong)?;
        let high: f64 = seq.next_element()?.ok_or_else(wrong)?;
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(wrong());
        }
        Param::range(low, high).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn bad_ends_cannot_be_built() {
        assert_eq!(
            Param::fixed(f64::NAN)
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("must be a finite number, got NaN")
        );
        assert!(matches!(
            Param::range(2.0, 1.0),
            Err(ParamError::Reversed(..))
        ));
        assert!(matches!(
            Param::range(0.0, f64::INFINITY),
            Err(ParamError::NotFinite(_))
        ));
        let wide = Param::range(-1e308, 1e308).err().map(|e| e.to_string());
        assert_eq!(
            wide.as_deref(),
            Some("range [-1e308, 1e308] is too wide to draw from")
        );
    }

    #[test]
    fn any_buildable_param_samples_within_its_ends() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        for (low, high) in [
            (0.0, 0.0),
            (-1e300, 1e300),
            (f64::MIN_POSITIVE, 1.0),
            (3.0, 3.0),
        ] {
            let p = Param::range(low, high).unwrap_or_else(|e| panic!("{e}"));
            for _ in 0..100 {
                let v = p.sample(&mut rng);
                assert!(v >= low && v <= high, "{v} outside [{low}, {high}]");
            }
        }
    }

    #[test]
    fn numbers_are_printed_compactly() {
        assert_eq!(compact(1e308), "1e308");
        assert_eq!(compact(2.5), "2.5");
        assert_eq!(compact(-3e-9), "-3e-9");
        assert_eq!(compact(f64::NAN), "NaN");
    }
}
