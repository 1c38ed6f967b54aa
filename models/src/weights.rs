//! Weight files: safetensors, so they open in any tool of the ML ecosystem.
//!
//! Header metadata (all strings, as safetensors requires):
//! - `format` = `memdrive-weights`, `format_version` = `1`
//! - `model_kind` = `rbf` | `gru` | `transformer`
//! - `config`: the model's configuration, JSON
//! - `observation`: the observation layout it expects, JSON `{"beams": N, "names": [...]}`
//! - `training`: JSON `{"seed", "rounds", "scenarios", "train_seeds"}`
//!
//! Tensors are `F32`, row-major, named as a PyTorch user would expect (`rbf.centres`,
//! `head.weight`, ...), plus `normaliser.mean` and `normaliser.std`.
//!
//! Loading checks all of it and fails with an error naming the key or tensor; saving writes a
//! temporary file in the same folder and renames it, so a crash never leaves half a file.

use crate::normaliser::Normaliser;
use crate::{Error, Invalid, Result};
use memdrive_sim::ObservationSpec;
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Value of the `format` key.
pub const FORMAT_NAME: &str = "memdrive-weights";
/// Value of the `format_version` key this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

pub use crate::nets::ModelKind;

/// The observation layout a model was trained on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationLayout {
    /// Lidar beams.
    pub beams: usize,
    /// Name of every element, in order.
    pub names: Vec<String>,
}

impl ObservationLayout {
    /// The layout of a simulator observation spec.
    pub fn of(spec: &ObservationSpec) -> Self {
        Self {
            beams: spec.beams(),
            names: spec.names().to_vec(),
        }
    }
}

/// How a file's weights were produced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// Seed of initialisation and data collection.
    pub seed: u64,
    /// DAgger rounds after behaviour cloning.
    pub rounds: u32,
    /// Scenarios trained on.
    pub scenarios: Vec<String>,
    /// Episode seeds used for training, e.g. `1000000..1000040 (+10000 per round)`.
    pub train_seeds: String,
}

/// One tensor: shape and row-major values.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    /// Dimensions, outermost first.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor; the data must fill the shape.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Self {
        assert_eq!(shape.iter().product::<usize>(), data.len());
        Self { shape, data }
    }
}

/// Everything in a weight file, checked for consistency with itself and with the simulator.
#[derive(Clone, Debug, PartialEq)]
pub struct WeightFile {
    /// The network kind.
    pub kind: ModelKind,
    /// The model's configuration (parsed by the model).
    pub config: serde_json::Value,
    /// The observation layout it expects.
    pub observation: ObservationLayout,
    /// Observation statistics.
    pub normaliser: Normaliser,
    /// How it was trained.
    pub training: TrainingInfo,
    /// The network's tensors (normaliser excluded), by name.
    pub tensors: BTreeMap<String, Tensor>,
}

const NORMALISER_MEAN: &str = "normaliser.mean";
const NORMALISER_STD: &str = "normaliser.std";

impl WeightFile {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let metadata: HashMap<String, String> = [
            ("format", FORMAT_NAME.to_owned()),
            ("format_version", FORMAT_VERSION.to_string()),
            ("model_kind", self.kind.as_str().to_owned()),
            ("config", self.config.to_string()),
            ("observation", to_json(&self.observation)),
            ("training", to_json(&self.training)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let mut bytes: BTreeMap<&str, (Vec<usize>, Vec<u8>)> = BTreeMap::new();
        let le = |data: &[f32]| {
            data.iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>()
        };
        let n = self.normaliser.dim();
        bytes.insert(NORMALISER_MEAN, (vec![n], le(self.normaliser.mean())));
        bytes.insert(NORMALISER_STD, (vec![n], le(self.normaliser.std())));
        for (name, t) in &self.tensors {
            bytes.insert(name, (t.shape.clone(), le(&t.data)));
        }
        let views: Vec<(&str, TensorView<'_>)> = bytes
            .iter()
            .map(|(name, (shape, data))| {
                TensorView::new(Dtype::F32, shape.clone(), data)
                    .map(|v| (*name, v))
                    .map_err(|e| Error::Training(format!("tensor {name}: {e}")))
            })
            .collect::<Result<_>>()?;
        let bytes = safetensors::serialize(views, Some(metadata))
            .map_err(|e| Error::Training(format!("cannot serialise weights: {e}")))?;
        canonical_header(&bytes)
            .ok_or_else(|| Error::Training("cannot re-encode the weight header".into()))
    }

    /// Writes the file atomically: a temporary file in the same folder, then a rename. Temporary
    /// files that an earlier, killed save left in that folder are removed first.
    pub fn save(&self, path: &Path) -> Result<()> {
        let bytes = self.to_bytes()?;
        check_writable(path)?;
        remove_stale_temporaries(path);
        let tmp = temporary_path(path);
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|error| {
            let _ = std::fs::remove_file(&tmp);
            Error::Io {
                path: path.to_owned(),
                error,
            }
        })
    }

    /// Reads and checks a file against the simulator's observation layout.
    pub fn load(path: &Path, expected: &ObservationSpec) -> Result<Self> {
        let bytes = memdrive_sim::files::read_bounded(path, crate::bounds::MAX_WEIGHT_FILE_BYTES)
            .map_err(|problem| Error::File {
            path: path.to_owned(),
            problem,
        })?;
        Self::from_bytes(&bytes, path, expected)
    }

    /// Parses and checks file bytes; `path` only names the source in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path, expected: &ObservationSpec) -> Result<Self> {
        let invalid = |message: String| Error::Invalid {
            path: path.to_owned(),
            message,
        };
        let format = |e: safetensors::SafeTensorError| Error::Format {
            path: path.to_owned(),
            message: e.to_string(),
        };
        check_unique_keys(bytes).map_err(|e| invalid(e.to_string()))?;
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(format)?;
        let metadata = header.metadata().clone().unwrap_or_default();
        let key = |k: &str| {
            metadata.get(k).cloned().ok_or_else(|| {
                invalid(format!(
                    "header metadata has no `{k}` (is this a memdrive weight file?)"
                ))
            })
        };
        let found = key("format")?;
        if found != FORMAT_NAME {
            return Err(invalid(format!(
                "metadata `format` is `{found}`, expected `{FORMAT_NAME}`"
            )));
        }
        let version = key("format_version")?;
        if version != FORMAT_VERSION.to_string() {
            return Err(invalid(format!(
                "metadata `format_version` is `{version}`; this build reads version {FORMAT_VERSION}"
            )));
        }
        let kind_text = key("model_kind")?;
        let kind = ModelKind::from_id(&kind_text).ok_or_else(|| {
            invalid(format!(
                "metadata `model_kind` is `{kind_text}`, expected one of {}",
                ModelKind::ids().join(", ")
            ))
        })?;
        let config: serde_json::Value = serde_json::from_str(&key("config")?)
            .map_err(|e| invalid(format!("metadata `config` is not JSON: {e}")))?;
        let observation: ObservationLayout = serde_json::from_str(&key("observation")?)
            .map_err(|e| invalid(format!("metadata `observation` is not a layout: {e}")))?;
        let training: TrainingInfo = serde_json::from_str(&key("training")?)
            .map_err(|e| invalid(format!("metadata `training` is malformed: {e}")))?;
        check_layout(&observation, expected).map_err(|e| invalid(e.to_string()))?;
        let safetensors = SafeTensors::deserialize(bytes).map_err(format)?;
        let mut tensors = BTreeMap::new();
        for (name, view) in safetensors.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(invalid(format!(
                    "tensor {name} has dtype {:?}, expected F32",
                    view.dtype()
                )));
            }
            let data: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            if let Some(i) = data.iter().position(|v| !v.is_finite()) {
                return Err(invalid(format!(
                    "tensor {name} holds a non-finite value ({}) at index {i}",
                    data[i]
                )));
            }
            tensors.insert(name, Tensor::new(view.shape().to_vec(), data));
        }
        let dim = expected.len();
        let mean = take_tensor(&mut tensors, NORMALISER_MEAN, &[dim])
            .map_err(|e| invalid(e.to_string()))?;
        let std = take_tensor(&mut tensors, NORMALISER_STD, &[dim])
            .map_err(|e| invalid(e.to_string()))?;
        let normaliser = Normaliser::from_parts(mean, std).ok_or_else(|| {
            invalid(format!(
                "tensor {NORMALISER_STD} has a standard deviation below 0.001"
            ))
        })?;
        Ok(Self {
            kind,
            config,
            observation,
            normaliser,
            training,
            tensors,
        })
    }

    /// Takes out the tensor `name`, which must have exactly `shape`.
    pub fn take(&mut self, name: &str, shape: &[usize]) -> std::result::Result<Vec<f32>, Invalid> {
        take_tensor(&mut self.tensors, name, shape)
    }

    /// After every expected tensor was taken: an error naming any left over.
    pub fn no_extra_tensors(&self) -> std::result::Result<(), Invalid> {
        match self.tensors.keys().next() {
            None => Ok(()),
            Some(name) => Err(Invalid::ExtraTensor {
                name: name.clone(),
                kind: self.kind.as_str(),
            }),
        }
    }

    /// The `config` metadata as a configuration of the kind titled `kind`, checked by
    /// `validate`, the kind's one check.
    pub fn config<C: serde::de::DeserializeOwned>(
        &self,
        kind: &'static str,
        validate: impl Fn(&C) -> std::result::Result<(), Invalid>,
    ) -> std::result::Result<C, Invalid> {
        parse_config(self.config.clone(), kind, validate).map_err(|e| e.in_metadata("config"))
    }
}

/// `json` as a configuration of the kind titled `kind`, checked by `validate`.
pub fn parse_config<C: serde::de::DeserializeOwned>(
    json: serde_json::Value,
    kind: &'static str,
    validate: impl Fn(&C) -> std::result::Result<(), Invalid>,
) -> std::result::Result<C, Invalid> {
    let config: C = serde_json::from_value(json).map_err(|e| Invalid::NotConfig {
        kind,
        message: e.to_string(),
    })?;
    validate(&config)?;
    Ok(config)
}

/// Safetensors reads its JSON header into maps, where a repeated key silently replaces the
/// first; a file that names a tensor or metadata key twice is ambiguous, so it is refused.
fn check_unique_keys(bytes: &[u8]) -> std::result::Result<(), Invalid> {
    let Some(n) = bytes
        .get(..8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_le_bytes)
    else {
        return Ok(()); // too short: the safetensors parser says so
    };
    let Some(header) = usize::try_from(n)
        .ok()
        .and_then(|n| bytes.get(8..8usize.checked_add(n)?))
    else {
        return Ok(());
    };
    unique_json_keys(header).map_err(|e| match e {
        Invalid::DuplicateKey(message) => Invalid::DuplicateKey(format!("header: {message}")),
        other => other,
    })
}

/// An error naming the first key that an object of the JSON text `json` repeats, at any depth
/// (JSON parsers keep the last silently). Text that is not JSON passes: its parser says so.
pub fn unique_json_keys(json: &[u8]) -> std::result::Result<(), Invalid> {
    match serde_json::from_slice::<UniqueKeys>(json) {
        Err(e) if e.to_string().contains(DUPLICATE) => Err(Invalid::DuplicateKey(e.to_string())),
        _ => Ok(()),
    }
}

const DUPLICATE: &str = "appears twice";

/// Any JSON value whose objects, at any depth, name each key once.
struct UniqueKeys;

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(UniqueKeysVisitor)
    }
}

struct UniqueKeysVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueKeysVisitor {
    type Value = UniqueKeys;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> std::result::Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_i64<E>(self, _: i64) -> std::result::Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_u64<E>(self, _: u64) -> std::result::Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_f64<E>(self, _: f64) -> std::result::Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_str<E>(self, _: &str) -> std::result::Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_unit<E>(self) -> std::result::Result<UniqueKeys, E> {
        Ok(UniqueKeys)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<UniqueKeys, A::Error> {
        while seq.next_element::<UniqueKeys>()?.is_some() {}
        Ok(UniqueKeys)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<UniqueKeys, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("key `{key}` {DUPLICATE}")));
            }
            map.next_value::<UniqueKeys>()?;
        }
        Ok(UniqueKeys)
    }
}

/// `.NAME.tmp-PID` beside `path`: where `save` writes before it renames.
fn temporary_path(path: &Path) -> PathBuf {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()))
}

/// The folder `path` is written in (`.` for a bare file name).
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// An error unless a weight file can be written at `path`: its folder exists and is a folder,
/// `path` is not a folder, and a file can be created there. Checked before a training run, so
/// that hours of training are not lost to a typo.
pub fn check_writable(path: &Path) -> Result<()> {
    let fail = |message: String| Error::Invalid {
        path: path.to_owned(),
        message,
    };
    let text = path.as_os_str().to_string_lossy();
    if path.file_name().is_none() || text.ends_with('/') {
        return Err(fail(
            "names no file (a folder?); give a file name to write".into(),
        ));
    }
    if path.is_dir() {
        return Err(fail("is a directory; give a file name to write".into()));
    }
    // An existing target is replaced by a rename: only ever replace a regular file the user
    // could write, never a device, a FIFO or a symbolic link.
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        let kind = meta.file_type();
        if kind.is_symlink() {
            return Err(fail(
                "is a symbolic link; give the file it points to, or another name".into(),
            ));
        }
        if !kind.is_file() {
            return Err(fail(
                "exists and is not a regular file (a device, FIFO or socket); it is left alone"
                    .into(),
            ));
        }
        if meta.permissions().readonly() {
            return Err(fail("exists and is read-only; it is left alone".into()));
        }
    }
    let folder = folder_of(path);
    match std::fs::metadata(folder) {
        Err(_) => {
            return Err(fail(format!("folder {} does not exist", folder.display())));
        }
        Ok(m) if !m.is_dir() => {
            return Err(fail(format!("{} is not a folder", folder.display())));
        }
        Ok(_) => {}
    }
    let probe = temporary_path(path);
    std::fs::File::create(&probe)
        .map_err(|e| {
            fail(format!(
                "cannot write in folder {}: {}",
                folder.display(),
                memdrive_sim::files::io_message(&e)
            ))
        })
        .map(|_| {
            let _ = std::fs::remove_file(&probe);
        })
}

/// Removes `.NAME.tmp-PID` files beside `path` (this target's own temporaries, never another
/// file's) whose process is gone: what a save that was killed between writing and renaming
/// leaves behind.
fn remove_stale_temporaries(path: &Path) {
    // Without /proc there is no telling a live save from a dead one: leave them all.
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(folder_of(path)) else {
        return;
    };
    let own = std::process::id();
    let Some(target) = path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return;
    };
    let prefix = format!(".{target}.tmp-");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix(&prefix)
            .filter(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = Path::new(&format!("/proc/{pid}")).exists();
        if pid != own && !alive && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn take_tensor(
    tensors: &mut BTreeMap<String, Tensor>,
    name: &str,
    shape: &[usize],
) -> std::result::Result<Vec<f32>, Invalid> {
    let t = tensors
        .remove(name)
        .ok_or_else(|| Invalid::MissingTensor(name.to_owned()))?;
    if t.shape != shape {
        return Err(Invalid::Shape {
            name: name.to_owned(),
            found: t.shape,
            expected: shape.to_vec(),
        });
    }
    Ok(t.data)
}

fn check_layout(
    found: &ObservationLayout,
    expected: &ObservationSpec,
) -> std::result::Result<(), Invalid> {
    let want = ObservationLayout::of(expected);
    if found.beams != want.beams || found.names.len() != want.names.len() {
        return Err(Invalid::Layout(format!(
            "the model expects {} beams ({} elements), the simulator gives {} beams ({} elements)",
            found.beams,
            found.names.len(),
            want.beams,
            want.names.len()
        )));
    }
    if let Some(i) = (0..want.names.len()).find(|&i| found.names[i] != want.names[i]) {
        return Err(Invalid::Layout(format!(
            "element {i} is `{}` in the model but `{}` in the simulator",
            found.names[i], want.names[i]
        )));
    }
    Ok(())
}

/// The same file with its JSON header's keys sorted, so that equal weights give equal bytes
/// (safetensors writes metadata in hash-map order, which changes from run to run). Tensor
/// offsets are relative to the data, so only the header and its length change.
fn canonical_header(bytes: &[u8]) -> Option<Vec<u8>> {
    let n = usize::try_from(u64::from_le_bytes(bytes.get(..8)?.try_into().ok()?)).ok()?;
    let mut header: serde_json::Value = serde_json::from_slice(bytes.get(8..8 + n)?).ok()?;
    header.sort_all_objects();
    let mut text = serde_json::to_vec(&header).ok()?;
    // safetensors aligns the data to 8 bytes by padding the header with spaces.
    text.resize(text.len().div_ceil(8) * 8, b' ');
    let mut out = Vec::with_capacity(8 + text.len() + bytes.len() - 8 - n);
    out.extend((text.len() as u64).to_le_bytes());
    out.extend(text);
    out.extend(&bytes[8 + n..]);
    Some(out)
}

/// Metadata structs as JSON text.
fn to_json<T: Serialize>(value: &T) -> String {
    // Plain structs of strings and numbers always serialise.
    serde_json::to_string(value).unwrap_or_default()
}

/// Path used in errors for weights that did not come from a file (e.g. bundled in the binary).
/// `name` is a kind's id (its default weights) or the name of another shipped file
/// (`Bundled::name`).
pub fn bundled_path(name: &str) -> PathBuf {
    PathBuf::from(format!("<bundled {name}.safetensors>"))
}
