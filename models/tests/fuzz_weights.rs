//! Fuzzing the one weight-file validator: the bundled files of every kind with their headers
//! damaged from the whole value space — configuration numbers (zero, negative, huge, wrong
//! type), model kinds swapped, metadata removed, tensor shapes, dtypes and offsets changed,
//! keys repeated. Each must load to a model that drives with finite actions, or fail with a
//! typed error naming the file; a panic anywhere fails the property.

use memdrive_models::weights::WeightFile;
use memdrive_models::{Error, Model};
use memdrive_sim::scenario::builtin;
use memdrive_sim::{ObservationSpec, World};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::path::Path;

const FILES: [&[u8]; 3] = [
    include_bytes!("../../assets/weights/rbf.safetensors"),
    include_bytes!("../../assets/weights/gru.safetensors"),
    include_bytes!("../../assets/weights/transformer.safetensors"),
];

fn split(bytes: &[u8]) -> (Value, &[u8]) {
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap_or_else(|e| panic!("{e}"))) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + n]).unwrap_or_else(|e| panic!("{e}"));
    (header, &bytes[8 + n..])
}

fn assemble(header: &str, data: &[u8]) -> Vec<u8> {
    let mut text = header.as_bytes().to_vec();
    text.resize(text.len().div_ceil(8) * 8, b' ');
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(text);
    out.extend(data);
    out
}

/// Values from the whole JSON space, the troublesome ones often.
fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::sample::select(vec![
            json!(0),
            json!(-1),
            json!(1),
            json!(2),
            json!(1_000_000),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(1e308),
            json!(-0.5),
            json!(null),
            json!("7"),
            json!([]),
            json!({}),
        ]),
        (0u64..5000).prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
    ]
}

#[derive(Clone, Debug)]
enum Damage {
    /// A configuration field set to a value.
    Config(prop::sample::Index, Value),
    /// A configuration field removed.
    ConfigRemoved(prop::sample::Index),
    /// The model kind replaced.
    Kind(&'static str),
    /// A metadata key removed.
    MetadataRemoved(prop::sample::Index),
    /// One dimension of a tensor's shape set to a value.
    Shape(prop::sample::Index, prop::sample::Index, Value),
    /// A tensor's dtype replaced.
    Dtype(prop::sample::Index, &'static str),
    /// A tensor's data offsets replaced.
    Offsets(prop::sample::Index, u64, u64),
    /// A tensor listed twice in the header text.
    Twice(prop::sample::Index),
    /// The observation layout's beam count set to a value.
    Beams(Value),
}

fn any_damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        (any::<prop::sample::Index>(), any_value()).prop_map(|(i, v)| Damage::Config(i, v)),
        any::<prop::sample::Index>().prop_map(Damage::ConfigRemoved),
        prop::sample::select(vec!["rbf", "gru", "transformer", "lstm", ""]).prop_map(Damage::Kind),
        any::<prop::sample::Index>().prop_map(Damage::MetadataRemoved),
        (
            any::<prop::sample::Index>(),
            any::<prop::sample::Index>(),
            any_value()
        )
            .prop_map(|(t, d, v)| Damage::Shape(t, d, v)),
        (
            any::<prop::sample::Index>(),
            prop::sample::select(vec!["F64", "F16", "I32", "BOOL", "X"])
        )
            .prop_map(|(t, d)| Damage::Dtype(t, d)),
        (
            any::<prop::sample::Index>(),
            0u64..2_000_000,
            0u64..2_000_000
        )
            .prop_map(|(t, a, b)| Damage::Offsets(t, a, b)),
        any::<prop::sample::Index>().prop_map(Damage::Twice),
        any_value().prop_map(Damage::Beams),
    ]
}

fn damage(header: &mut Value, d: &Damage) -> Option<(String, String)> {
    let tensors: Vec<String> = header
        .as_object()?
        .keys()
        .filter(|k| *k != "__metadata__")
        .cloned()
        .collect();
    let metadata = header.get_mut("__metadata__")?.as_object_mut()?;
    let mut config: Value = serde_json::from_str(metadata.get("config")?.as_str()?).ok()?;
    let fields: Vec<String> = config.as_object()?.keys().cloned().collect();
    let mut twice = None;
    match d {
        Damage::Config(i, v) => {
            config[fields[i.index(fields.len())].as_str()] = v.clone();
        }
        Damage::ConfigRemoved(i) => {
            config
                .as_object_mut()?
                .remove(&fields[i.index(fields.len())]);
        }
        Damage::Kind(k) => {
            metadata.insert("model_kind".into(), json!(k));
        }
        Damage::MetadataRemoved(i) => {
            let keys: Vec<String> = metadata.keys().cloned().collect();
            metadata.remove(&keys[i.index(keys.len())]);
        }
        Damage::Beams(v) => {
            let mut obs: Value =
                serde_json::from_str(metadata.get("observation")?.as_str()?).ok()?;
            obs["beams"] = v.clone();
            metadata.insert("observation".into(), json!(obs.to_string()));
        }
        Damage::Shape(..) | Damage::Dtype(..) | Damage::Offsets(..) | Damage::Twice(..) => {}
    }
    if metadata.contains_key("config") {
        metadata.insert("config".into(), json!(config.to_string()));
    }
    match d {
        Damage::Shape(t, dim, v) => {
            let shape = header[tensors[t.index(tensors.len())].as_str()]["shape"].as_array_mut()?;
            let n = shape.len();
            if n > 0 {
                shape[dim.index(n)] = v.clone();
            }
        }
        Damage::Dtype(t, dtype) => {
            header[tensors[t.index(tensors.len())].as_str()]["dtype"] = json!(dtype);
        }
        Damage::Offsets(t, a, b) => {
            header[tensors[t.index(tensors.len())].as_str()]["data_offsets"] = json!([a, b]);
        }
        Damage::Twice(t) => {
            let name = &tensors[t.index(tensors.len())];
            twice = Some((name.clone(), header[name.as_str()].to_string()));
        }
        _ => {}
    }
    let text = header.to_string();
    Some(match twice {
        // Insert a second entry under the same name right after the opening brace.
        Some((name, entry)) => (format!("{{\"{name}\":{entry},{}", &text[1..]), name),
        None => (text, String::new()),
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_damaged_header_is_a_named_error_or_a_model_that_drives(
        file in 0usize..3,
        damages in prop::collection::vec(any_damage(), 1..4),
    ) {
        let (mut header, data) = split(FILES[file]);
        let mut text = header.to_string();
        let mut repeated = String::new();
        for d in &damages {
            if let Some((t, name)) = damage(&mut header, d) {
                text = t;
                if !name.is_empty() {
                    repeated = name;
                    break; // the text now has a key twice; the JSON value cannot show that
                }
            }
        }
        let bytes = assemble(&text, data);
        let path = Path::new("fuzzed.safetensors");
        let layout = ObservationSpec::new(32);
        match WeightFile::from_bytes(&bytes, path, &layout).and_then(|f| Model::from_file(f, path)) {
            Err(e) => {
                prop_assert!(matches!(e, Error::Format { .. } | Error::Invalid { .. }), "{e:?}");
                let message = e.to_string();
                prop_assert!(message.starts_with("fuzzed.safetensors: "), "{message}");
                if !repeated.is_empty() {
                    prop_assert!(message.contains("appears twice"), "{message}");
                }
            }
            Ok(model) => {
                prop_assert!(repeated.is_empty(), "a repeated key {repeated} was accepted");
                let spec = builtin("cut_in").and_then(Result::ok).unwrap_or_else(|| panic!("spec"));
                let mut world = World::new(&spec, 3);
                let mut controller = model.controller();
                controller.reset();
                for _ in 0..30 {
                    let c = controller.act(world.observation());
                    prop_assert!(c.steer_rad.is_finite() && c.accel_mps2.is_finite());
                    world.step(c);
                }
            }
        }
    }
}
