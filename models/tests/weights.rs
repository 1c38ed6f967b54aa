//! Weight files: a round trip is exact, and every kind of damage is a typed error that names
//! the problem, with nothing changed.

use memdrive_models::weights::{ModelKind, Tensor, WeightFile};
use memdrive_models::{Error, Model};
use memdrive_sim::scenario::builtin;
use memdrive_sim::{Controls, ObservationSpec, World};
use std::path::{Path, PathBuf};

const BUNDLED: &[u8] = include_bytes!("../../assets/weights/rbf.safetensors");

fn layout() -> ObservationSpec {
    ObservationSpec::new(32)
}

fn bundled() -> WeightFile {
    WeightFile::from_bytes(BUNDLED, Path::new("rbf.safetensors"), &layout())
        .unwrap_or_else(|e| panic!("{e}"))
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("memdrive-weights-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// The error message of loading `bytes` as a model.
fn load_error(bytes: &[u8]) -> String {
    let path = Path::new("damaged.safetensors");
    let result =
        WeightFile::from_bytes(bytes, path, &layout()).and_then(|f| Model::from_file(f, path));
    match result {
        Ok(_) => panic!("damaged file loaded"),
        Err(e) => {
            assert!(
                matches!(e, Error::Format { .. } | Error::Invalid { .. }),
                "{e:?}"
            );
            let text = e.to_string();
            assert!(text.starts_with("damaged.safetensors: "), "{text}");
            text
        }
    }
}

fn actions_over_an_episode(model: &Model) -> Vec<(u64, u64)> {
    let spec = builtin("mixed_traffic")
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("spec"));
    let mut world = World::new(&spec, 7);
    let mut controller = model.controller();
    let mut actions = Vec::new();
    controller.reset();
    while world.outcome().is_none() && world.steps() < 300 {
        let c: Controls = controller.act(world.observation());
        actions.push((c.steer_rad.to_bits(), c.accel_mps2.to_bits()));
        world.step(c);
    }
    actions
}

#[test]
fn save_then_load_drives_bit_for_bit_the_same() {
    let original = bundled();
    let dir = temp_dir("round-trip");
    let path = dir.join("copy.safetensors");
    original.save(&path).unwrap_or_else(|e| panic!("{e}"));
    // The temporary file was renamed away.
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.flatten().count())
        .into_iter()
        .collect();
    assert_eq!(leftovers, vec![1]);
    let loaded = WeightFile::load(&path, &layout()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(loaded, original);
    let a = Model::from_file(original, Path::new("a")).unwrap_or_else(|e| panic!("{e}"));
    let b = Model::from_file(loaded, Path::new("b")).unwrap_or_else(|e| panic!("{e}"));
    let (run_a, run_b) = (actions_over_an_episode(&a), actions_over_an_episode(&b));
    assert!(run_a.len() > 100);
    assert_eq!(run_a, run_b);
}

#[test]
fn a_failed_save_leaves_the_existing_file_alone() {
    let dir = temp_dir("failed-save");
    let path = dir.join("keep.safetensors");
    std::fs::write(&path, b"precious").unwrap_or_else(|e| panic!("{e}"));
    let missing_dir = dir.join("no/such/dir/keep.safetensors");
    let err = bundled()
        .save(&missing_dir)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("no/such/dir"), "{err}");
    assert_eq!(std::fs::read(&path).ok().as_deref(), Some(&b"precious"[..]));
}

/// A save killed between writing and renaming leaves `.NAME.tmp-PID`; the next save to the
/// folder removes it (its process is gone) and keeps what belongs to a live process.
#[test]
fn temporaries_of_killed_saves_are_removed_by_the_next_save() {
    let dir = temp_dir("stale-temporaries");
    // Above Linux's largest pid (2^22), so no process has it.
    let stale = dir.join(".new.safetensors.tmp-4194999");
    let live = dir.join(format!(".new.safetensors.tmp-{}", std::process::id() + 1));
    // Another file's temporary, and the user's own file that looks like one, are not ours.
    let other = dir.join(".old.safetensors.tmp-4194999");
    let unrelated = dir.join(".thesis.tmp-4194999");
    for p in [&stale, &other, &unrelated] {
        std::fs::write(p, b"half a file").unwrap_or_else(|e| panic!("{e}"));
    }

    let path = dir.join("new.safetensors");
    bundled().save(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(!stale.exists(), "stale temporary kept");
    assert!(
        other.exists() && unrelated.exists(),
        "removed files that are not this target's temporaries"
    );
    let _ = live;
    assert_eq!(
        std::fs::read(&path).ok().as_deref(),
        Some(&bundled().to_bytes().unwrap_or_default()[..])
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn saving_over_a_folder_or_into_a_missing_one_is_refused_before_writing() {
    let dir = temp_dir("unwritable");
    let err = bundled()
        .save(&dir)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("is a directory"), "{err}");
    let err = bundled()
        .save(&dir.join("missing/w.safetensors"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("does not exist"), "{err}");
    // Devices, FIFOs, links and read-only files are never replaced.
    for (target, says) in [
        (Path::new("/dev/null").to_owned(), "not a regular file"),
        (dir.join("folder/"), "names no file"),
    ] {
        let err = bundled()
            .save(&target)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(says), "{}: {err}", target.display());
    }
    let link = dir.join("link.safetensors");
    let _ = std::fs::remove_file(&link);
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("elsewhere"), &link).unwrap_or_else(|e| panic!("{e}"));
    #[cfg(unix)]
    assert!(bundled().save(&link).is_err());
    let locked = dir.join("locked.safetensors");
    std::fs::write(&locked, b"keep").unwrap_or_else(|e| panic!("{e}"));
    let mut perms = std::fs::metadata(&locked)
        .unwrap_or_else(|e| panic!("{e}"))
        .permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&locked, perms).unwrap_or_else(|e| panic!("{e}"));
    let err = bundled()
        .save(&locked)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(err.contains("read-only"), "{err}");
    assert_eq!(std::fs::read(&locked).ok().as_deref(), Some(&b"keep"[..]));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_truncated_file_is_rejected() {
    for len in [0, 5, 300, BUNDLED.len() - 1] {
        let err = load_error(&BUNDLED[..len]);
        assert!(err.contains("not a valid safetensors file"), "{len}: {err}");
    }
}

#[test]
fn flipped_bytes_in_the_header_are_rejected() {
    let mut bytes = BUNDLED.to_vec();
    for i in [10, 40, 200] {
        bytes[i] ^= 0xA5;
    }
    let err = load_error(&bytes);
    assert!(
        err.contains("not a valid safetensors file") || err.contains("metadata"),
        "{err}"
    );
}

#[test]
fn a_header_that_claims_more_bytes_than_the_file_has_is_rejected() {
    let mut bytes = BUNDLED.to_vec();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap_or_default());
    bytes[..8].copy_from_slice(&(n + 1000).to_le_bytes());
    let err = load_error(&bytes);
    assert!(err.contains("not a valid safetensors file"), "{err}");
}

/// The bundled bytes with the first `from` replaced by `to`, of the same length.
fn replaced(from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut bytes = BUNDLED.to_vec();
    let at = bytes.windows(from.len()).position(|w| w == from);
    let at = at.unwrap_or_else(|| panic!("{} not in the file", String::from_utf8_lossy(from)));
    bytes[at..at + to.len()].copy_from_slice(to);
    bytes
}

fn rewritten(edit: impl FnOnce(&mut WeightFile)) -> Vec<u8> {
    let mut file = bundled();
    edit(&mut file);
    file.to_bytes().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_wrong_model_kind_is_rejected() {
    // RBF tensors and config labelled as a GRU.
    let err = load_error(&rewritten(|f| f.kind = memdrive_models::gru::KIND));
    assert!(err.contains("not a configuration for the GRU"), "{err}");
    // An unknown kind in the metadata itself.
    let err = load_error(&replaced(
        b"\"model_kind\":\"rbf\"",
        b"\"model_kind\":\"mlp\"",
    ));
    assert!(err.contains("model_kind") && err.contains("mlp"), "{err}");
}

#[test]
fn a_shape_mismatch_names_the_tensor_and_both_shapes() {
    let err = load_error(&rewritten(|f| {
        f.tensors.insert(
            "rbf.centres".into(),
            Tensor::new(vec![256, 32], vec![0.5; 256 * 32]),
        );
    }));
    assert!(
        err.contains("tensor rbf.centres has shape [256, 32], expected [256, 136]"),
        "{err}"
    );
    let err = load_error(&rewritten(|f| {
        f.tensors.remove("head.bias");
    }));
    assert!(err.contains("tensor head.bias is missing"), "{err}");
    let err = load_error(&rewritten(|f| {
        f.tensors
            .insert("extra.weight".into(), Tensor::new(vec![1], vec![0.0]));
    }));
    assert!(err.contains("extra.weight"), "{err}");
}

/// Files written before the RBF's linear tail existed have no `linear` in their config and no
/// `linear.weight`: they still load and drive. A file whose config asks for the tail must hold
/// it, in the right shape.
#[test]
fn rbf_files_without_a_linear_tail_still_load_and_a_tail_is_checked() {
    let without = rewritten(|f| {
        if let Some(config) = f.config.as_object_mut() {
            config.remove("linear");
        }
        f.tensors.remove("linear.weight");
    });
    let path = Path::new("old.safetensors");
    let file = WeightFile::from_bytes(&without, path, &layout()).unwrap_or_else(|e| panic!("{e}"));
    let model = Model::from_file(file, path).unwrap_or_else(|e| panic!("{e}"));
    assert!(actions_over_an_episode(&model).len() > 100);

    let err = load_error(&rewritten(|f| {
        f.tensors.remove("linear.weight");
    }));
    assert!(err.contains("tensor linear.weight is missing"), "{err}");
    let err = load_error(&rewritten(|f| {
        f.tensors.insert(
            "linear.weight".into(),
            Tensor::new(vec![2, 32], vec![0.0; 64]),
        );
    }));
    assert!(
        err.contains("tensor linear.weight has shape [2, 32], expected [2, 136]"),
        "{err}"
    );
}

#[test]
fn nan_and_infinite_values_are_rejected() {
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let err = load_error(&rewritten(|f| {
            if let Some(t) = f.tensors.get_mut("head.weight") {
                t.data[3] = bad;
            }
        }));
        assert!(
            err.contains("tensor head.weight holds a non-finite value") && err.contains("index 3"),
            "{err}"
        );
    }
}

#[test]
fn an_observation_layout_from_another_sensor_is_rejected() {
    let path = Path::new("damaged.safetensors");
    let err = WeightFile::from_bytes(BUNDLED, path, &ObservationSpec::new(16))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.contains("observation layout") && err.contains("32 beams") && err.contains("16 beams"),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_memdrive_weights_is_rejected() {
    let err = load_error(&replaced(b"memdrive-weights", b"memdrive-weightz"));
    assert!(err.contains("`format`"), "{err}");
}

#[test]
fn equal_weights_give_equal_bytes() {
    let file = bundled();
    let first = file.to_bytes().unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..5 {
        assert_eq!(file.to_bytes().ok().as_deref(), Some(&first[..]));
    }
    assert_eq!(first, BUNDLED, "the bundled file is in canonical form");
}

/// A weight file for freshly initialised parameters, with the bundled normaliser.
fn untrained_file(
    kind: ModelKind,
    config: serde_json::Result<serde_json::Value>,
    tensors: std::collections::BTreeMap<String, Tensor>,
) -> WeightFile {
    use memdrive_models::weights::{ObservationLayout, TrainingInfo};
    WeightFile {
        kind,
        config: config.unwrap_or_else(|e| panic!("{e}")),
        observation: ObservationLayout::of(&layout()),
        normaliser: bundled().normaliser,
        training: TrainingInfo {
            seed: 0,
            rounds: 0,
            scenarios: vec![],
            train_seeds: String::new(),
        },
        tensors,
    }
}

/// `file` written and read back drives bit for bit as `file` itself.
fn round_trips(file: &WeightFile) {
    let bytes = file.to_bytes().unwrap_or_else(|e| panic!("{e}"));
    let path = Path::new(file.kind.as_str());
    let loaded = WeightFile::from_bytes(&bytes, path, &layout()).unwrap_or_else(|e| panic!("{e}"));
    let a = Model::from_file(file.clone(), path).unwrap_or_else(|e| panic!("{e}"));
    let b = Model::from_file(loaded, path).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(actions_over_an_episode(&a), actions_over_an_episode(&b));
}

/// The error of loading `file` after `change`.
fn error_after(file: &WeightFile, change: &dyn Fn(&mut WeightFile)) -> String {
    let mut wrong = file.clone();
    change(&mut wrong);
    load_error(&wrong.to_bytes().unwrap_or_else(|e| panic!("{e}")))
}

/// A GRU's file: same round trip, and shape errors name its PyTorch-style tensors.
#[test]
fn gru_files_round_trip_and_name_their_tensors() {
    use memdrive_models::gru::{GruConfig, GruParams};
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    let config = GruConfig {
        hidden: 8,
        head_mlp: 4,
        ..GruConfig::default()
    };
    let params = GruParams::init_with(136, 8, config.head_mlp, &mut rng);
    let file = untrained_file(
        memdrive_models::gru::KIND,
        serde_json::to_value(&config),
        params.tensors(),
    );
    round_trips(&file);
    let err = error_after(&file, &|f| {
        f.tensors.insert(
            "gru.weight_hh".into(),
            Tensor::new(vec![64, 32], vec![0.0; 64 * 32]),
        );
    });
    assert!(
        err.contains("tensor gru.weight_hh has shape [64, 32], expected [24, 8]"),
        "{err}"
    );
    // The head's hidden layer reads the hidden state and the observation: (4, 8 + 136).
    let err = error_after(&file, &|f| {
        f.tensors.insert(
            "head.mlp.weight".into(),
            Tensor::new(vec![4, 136], vec![0.0; 4 * 136]),
        );
    });
    assert!(
        err.contains("tensor head.mlp.weight has shape [4, 136], expected [4, 144]"),
        "{err}"
    );
    // A file with a linear head says so in its config and has no hidden layer.
    let linear = GruConfig {
        head_mlp: 0,
        ..config
    };
    let params = GruParams::init(136, 8, &mut rng);
    round_trips(&untrained_file(
        memdrive_models::gru::KIND,
        serde_json::to_value(&linear),
        params.tensors(),
    ));
}

/// A transformer's file: same round trip; its attention tensors are named as in PyTorch-style
/// checkpoints and checked against the config.
#[test]
fn transformer_files_round_trip_and_name_their_tensors() {
    use memdrive_models::transformer::{TransformerConfig, TransformerParams};
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(6);
    let config = TransformerConfig {
        window: 8,
        d_model: 16,
        heads: 2,
        d_mlp: 24,
        ..TransformerConfig::default()
    };
    let params = TransformerParams::init(136, &config, &mut rng);
    let file = untrained_file(
        memdrive_models::transformer::KIND,
        serde_json::to_value(&config),
        params.weight_tensors(),
    );
    round_trips(&file);
    let err = error_after(&file, &|f| {
        f.tensors.insert(
            "attn.0.q_proj.weight".into(),
            Tensor::new(vec![16, 8], vec![0.0; 128]),
        );
    });
    assert!(
        err.contains("tensor attn.0.q_proj.weight has shape [16, 8], expected [16, 16]"),
        "{err}"
    );
}

/// An LRU's file: the same round trip, one error per check — a misshapen tensor, a channel
/// that would not forget (|λ| ≥ 1), a non-finite value, a tensor that is not its own, a
/// configuration out of bounds, a missing tensor — each naming what is wrong.
#[test]
fn lru_files_round_trip_and_every_check_names_what_is_wrong() {
    use memdrive_models::nets::lru::{LruConfig, LruParams};
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let config = LruConfig {
        d_model: 8,
        state: 6,
        d_mlp: 10,
        ..LruConfig::default()
    };
    let params = LruParams::init(136, &config, &mut rng);
    let file = untrained_file(
        memdrive_models::nets::lru::KIND,
        serde_json::to_value(&config),
        params.weight_tensors(),
    );
    round_trips(&file);
    let error_of = |change: &dyn Fn(&mut WeightFile)| error_after(&file, change);
    let err = error_of(&|f| {
        f.tensors
            .insert("lru.B_re".into(), Tensor::new(vec![6, 4], vec![0.0; 24]));
    });
    assert!(
        err.contains("tensor lru.B_re has shape [6, 4], expected [6, 8]"),
        "{err}"
    );
    // ν = −40: exp(−exp(ν)) rounds to |λ| = 1, a channel that never forgets.
    let err = error_of(&|f| {
        if let Some(t) = f.tensors.get_mut("lru.nu_log") {
            t.data[2] = -40.0;
        }
    });
    assert!(
        err.contains("tensor lru.nu_log must be within its range") && err.contains("index 2"),
        "{err}"
    );
    let err = error_of(&|f| {
        if let Some(t) = f.tensors.get_mut("lru.C_im") {
            t.data[0] = f32::NAN;
        }
    });
    assert!(
        err.contains("lru.C_im") && err.contains("non-finite"),
        "{err}"
    );
    let err = error_of(&|f| {
        f.tensors
            .insert("gru.weight_hh".into(), Tensor::new(vec![1], vec![0.0]));
    });
    assert!(
        err.contains("tensor gru.weight_hh is not part of a lru model"),
        "{err}"
    );
    let err = error_of(&|f| {
        f.config["state"] = serde_json::json!(100_000);
    });
    assert!(err.contains("LRU config: state must be between"), "{err}");
    let err = error_of(&|f| {
        f.tensors.remove("lru.theta_log");
    });
    assert!(err.contains("tensor lru.theta_log is missing"), "{err}");
}

/// A Hebbian network's file: the same round trip, and each check — shapes, finite values,
/// bounds on every size, the plastic coefficients' range, the trace's clip and decay — names
/// what is wrong (a file of one kind asked for as another: `tests/tests/cli/learned.rs`).
#[test]
fn hebbian_files_round_trip_and_every_check_names_what_is_wrong() {
    use memdrive_models::nets::hebbian::{HebbianConfig, HebbianParams};
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
    let config = HebbianConfig {
        hidden: 6,
        trace_decay: 0.95,
        ..HebbianConfig::default()
    };
    let params = HebbianParams::init(136, &config, &mut rng);
    let file = untrained_file(
        memdrive_models::nets::hebbian::KIND,
        serde_json::to_value(&config),
        params.weight_tensors(),
    );
    round_trips(&file);
    let error_of = |change: &dyn Fn(&mut WeightFile)| error_after(&file, change);
    type Change<'a> = &'a dyn Fn(&mut WeightFile);
    let cases: [(&str, Change<'_>, &str); 8] = [
        (
            "a shape",
            &|f| {
                f.tensors
                    .insert("plastic.w".into(), Tensor::new(vec![6, 5], vec![0.0; 30]));
            },
            "tensor plastic.w has shape [6, 5], expected [6, 6]",
        ),
        (
            "a non-finite value",
            &|f| {
                if let Some(t) = f.tensors.get_mut("modulator.weight") {
                    t.data[1] = f32::INFINITY;
                }
            },
            "non-finite",
        ),
        (
            "a plastic coefficient out of range",
            &|f| {
                if let Some(t) = f.tensors.get_mut("plastic.alpha") {
                    t.data[3] = 1e4;
                }
            },
            "plastic.alpha must be within ±100",
        ),
        (
            "a size out of bounds",
            &|f| f.config["hidden"] = serde_json::json!(100_000),
            "Hebbian config: hidden must be between",
        ),
        (
            "a decay above 1",
            &|f| f.config["trace_decay"] = serde_json::json!(1.5),
            "trace_decay",
        ),
        (
            "a clip of 0",
            &|f| f.config["trace_clip"] = serde_json::json!(0.0),
            "trace_clip",
        ),
        (
            "a missing tensor",
            &|f| {
                f.tensors.remove("head.weight");
            },
            "tensor head.weight is missing",
        ),
        (
            "another kind's tensor",
            &|f| {
                f.tensors
                    .insert("lru.D".into(), Tensor::new(vec![1], vec![0.0]));
            },
            "tensor lru.D is not part of a hebbian model",
        ),
    ];
    for (what, change, says) in cases {
        let err = error_of(change);
        assert!(err.contains(says), "{what}: {err}");
    }
}

/// A Hebbian network with a hidden layer in its head: the same round trip, the layer named as
/// the GRU's and checked against the config (it reads the activity, then the observation).
#[test]
fn hebbian_files_with_a_hidden_layer_in_the_head_round_trip() {
    use memdrive_models::nets::hebbian::{HebbianConfig, HebbianParams};
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let config = HebbianConfig {
        hidden: 6,
        head_mlp: 4,
        ..HebbianConfig::default()
    };
    let params = HebbianParams::init(136, &config, &mut rng);
    let tensors = params.weight_tensors();
    assert_eq!(tensors["head.mlp.weight"].shape, vec![4, 142]);
    assert_eq!(tensors["head.weight"].shape, vec![2, 4]);
    let file = untrained_file(
        memdrive_models::nets::hebbian::KIND,
        serde_json::to_value(&config),
        tensors,
    );
    round_trips(&file);
    let err = error_after(&file, &|f| {
        f.tensors.insert(
            "head.mlp.weight".into(),
            Tensor::new(vec![4, 136], vec![0.0; 4 * 136]),
        );
    });
    assert!(
        err.contains("tensor head.mlp.weight has shape [4, 136], expected [4, 142]"),
        "{err}"
    );
    // Without the layer in its config, the file's layer is a tensor too many.
    let err = error_after(&file, &|f| f.config["head_mlp"] = serde_json::json!(0));
    assert!(
        err.contains("head.weight") || err.contains("head.mlp"),
        "{err}"
    );
}
