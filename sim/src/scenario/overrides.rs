//! `--set path=value`: changing any field of a scenario from the command line (or the app),
//! checked by the same deserialiser and validator as a file.
//!
//! A path names fields by their names in the file and array elements by their index, joined by
//! dots: `duration_s`, `ego.speed_mps`, `pedestrians.0.speed_mps`. A value is written as in a
//! scenario file: `4`, `[2.0, 3.0]`, `true`, `"text"`.

use super::ScenarioSpec;
use crate::{Error, Result};
use toml::Value;

/// One `path=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The text as given, for messages.
    pub text: String,
    path: Vec<String>,
    value: Value,
}

impl Override {
    /// Parses `path=value`.
    pub fn parse(text: &str) -> Result<Self> {
        let fail = |message: String| Error::Override {
            item: text.to_owned(),
            message,
        };
        let (path, value) = text
            .split_once('=')
            .ok_or_else(|| fail("write it path=value, e.g. ego.speed_mps=[8, 9]".into()))?;
        let path: Vec<String> = path.trim().split('.').map(str::to_owned).collect();
        if path.iter().any(String::is_empty) {
            return Err(fail("the path has an empty part".into()));
        }
        let value = toml::from_str::<toml::Table>(&format!("v = {}", value.trim()))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .ok_or_else(|| {
                fail(format!(
                    "`{}` is not a value as a scenario file writes one (a number, [low, high], true, \"text\")",
                    value.trim()
                ))
            })?;
        Ok(Self {
            text: text.to_owned(),
            path,
            value,
        })
    }

    /// Sets the value in `document`, the scenario called `scenario`.
    fn apply(&self, document: &mut Value, scenario: &str) -> Result<()> {
        let fail = |message: String| Error::Override {
            item: self.text.clone(),
            message,
        };
        let (last, parents) = self
            .path
            .split_last()
            .ok_or_else(|| fail("the path is empty".into()))?;
        let mut at = document;
        let mut walked = String::new();
        for part in parents {
            at = step(at, part).ok_or_else(|| {
                fail(if walked.is_empty() {
                    format!("scenario `{scenario}` has no `{part}`")
                } else {
                    format!("scenario `{scenario}` has no `{part}` in `{walked}`")
                })
            })?;
            walked = if walked.is_empty() {
                part.clone()
            } else {
                format!("{walked}.{part}")
            };
        }
        match at {
            Value::Table(table) => {
                table.insert(last.clone(), self.value.clone());
                Ok(())
            }
            Value::Array(items) => {
                let count = items.len();
                let slot = last
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| items.get_mut(i))
                    .ok_or_else(|| {
                        let noun = if count == 1 { "element" } else { "elements" };
                        fail(format!("`{walked}` has {count} {noun}, counted from 0"))
                    })?;
                *slot = self.value.clone();
                Ok(())
            }
            _ => Err(fail(format!("`{walked}` is a single value, not a section"))),
        }
    }
}

fn step<'a>(value: &'a mut Value, part: &str) -> Option<&'a mut Value> {
    match value {
        Value::Table(table) => table.get_mut(part),
        Value::Array(items) => items.get_mut(part.parse::<usize>().ok()?),
        _ => None,
    }
}

impl ScenarioSpec {
    /// The scenario with `overrides` applied in order, checked like a file (unknown fields,
    /// types, ranges, bounds); an error names the override or the field.
    pub fn with_overrides(&self, overrides: &[Override]) -> Result<Self> {
        if overrides.is_empty() {
            return Ok(self.clone());
        }
        let origin = format!(
            "scenario {} with --set {}",
            self.name,
            overrides
                .iter()
                .map(|o| o.text.as_str())
                .collect::<Vec<_>>()
                .join(" --set ")
        );
        let mut document = Value::try_from(self).map_err(|e| Error::Parse {
            origin: origin.clone(),
            message: e.to_string(),
        })?;
        for o in overrides {
            o.apply(&mut document, &self.name)?;
        }
        let spec: Self = serde_path_to_error::deserialize(document).map_err(|e| {
            let field = e.path().to_string();
            Error::Invalid {
                origin: origin.clone(),
                field,
                // The value deserialiser appends its own `in <path>`: the field is named already.
                message: format!(
                    "is not valid: {}",
                    e.into_inner()
                        .to_string()
                        .lines()
                        .next()
                        .unwrap_or_default()
                ),
            }
        })?;
        spec.validate(&origin)?;
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::builtin;

    fn crossing() -> ScenarioSpec {
        builtin("occluded_crossing")
            .and_then(Result::ok)
            .unwrap_or_else(|| panic!("built-in"))
    }

    fn set(items: &[&str]) -> Result<ScenarioSpec> {
        let overrides: Vec<Override> = items
            .iter()
            .map(|t| Override::parse(t))
            .collect::<Result<_>>()?;
        crossing().with_overrides(&overrides)
    }

    #[test]
    fn overrides_change_fields_by_path_and_leave_the_rest() {
        let spec = set(&[
            "duration_s=12",
            "pedestrians.0.speed_mps=[2, 3]",
            "ego.lane=1",
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(spec.duration_s, 12.0);
        assert_eq!(
            (
                spec.pedestrians[0].speed_mps.min(),
                spec.pedestrians[0].speed_mps.max()
            ),
            (2.0, 3.0)
        );
        assert_eq!(spec.ego.lane, 1);
        let mut expected = crossing();
        expected.duration_s = 12.0;
        expected.ego.lane = 1;
        expected.pedestrians[0].speed_mps = spec.pedestrians[0].speed_mps;
        assert_eq!(spec, expected);
        assert_eq!(crossing().with_overrides(&[]).ok(), Some(crossing()));
    }

    #[test]
    fn bad_overrides_are_checked_like_a_file() {
        let err = |items: &[&str]| set(items).err().map(|e| e.to_string()).unwrap_or_default();
        let e = err(&["pedestrians.0.speed_mps=[3, 2]"]);
        assert!(
            e.contains("pedestrians[0].speed_mps") && e.contains("reversed"),
            "{e}"
        );
        let e = err(&["duration_s=1e9"]);
        assert!(e.contains("duration_s") && e.contains("1e9"), "{e}");
        let e = err(&["ego.wheels=4"]);
        assert!(e.contains("unknown field `wheels`"), "{e}");
        let e = err(&["pedestrians.5.speed_mps=2"]);
        assert!(e.contains("has 1 element,") || e.contains("no `5`"), "{e}");
        let e = err(&["duration_s"]);
        assert!(e.contains("path=value"), "{e}");
        let e = err(&["duration_s=fast"]);
        assert!(e.contains("`fast` is not a value"), "{e}");
        let e = err(&["duration_s.x=3"]);
        assert!(e.contains("single value"), "{e}");
        // A section the scenario lacks: the message names the scenario and where.
        let e = err(&["memory_gap.gap_s=3"]);
        assert!(
            e.contains("scenario `occluded_crossing` has no `memory_gap`") && !e.contains("``"),
            "{e}"
        );
        let e = err(&["ego.mirror.tilt=3"]);
        assert!(
            e.contains("scenario `occluded_crossing` has no `mirror` in `ego`"),
            "{e}"
        );
    }
}
