#!/usr/bin/env bash
# Exactly what CI checks, runnable locally: formatting, lints, the headless-crates rule, tests.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== sim and models stay headless"
for crate in memdrive-sim memdrive-models; do
    if ! cargo metadata --format-version 1 --no-deps --locked | grep -q "\"name\":\"$crate\""; then
        continue
    fi
    tree=$(cargo tree -p "$crate" -e normal --locked --prefix none)
    if echo "$tree" | grep -Eq '^(egui|eframe|winit|wgpu|rfd|egui_plot|egui_kittest) v'; then
        echo "$crate depends on a GUI crate:" >&2
        echo "$tree" | grep -E '^(egui|eframe|winit|wgpu|rfd|egui_plot|egui_kittest) v' >&2
        exit 1
    fi
    echo "$crate: no GUI crates"
done

echo "== cargo test --workspace"
cargo test --workspace --locked
