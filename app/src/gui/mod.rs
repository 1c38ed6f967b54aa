//! The desktop app: the three learned controllers side by side on identical worlds, each with
//! its memory drawn live. `lab` holds the comparison as plain data; the other modules draw it.

mod app;
pub mod dialogs;
pub mod horizon_view;
pub mod instruments;
pub mod lab;
mod memory_view;
mod paint;
pub mod settings;
pub mod training;
mod world_view;

pub use app::{MemdriveApp, Notice};

/// Opens the app window and runs until it is closed.
pub fn run() -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("memdrive — what does a network remember?")
            .with_inner_size([1600.0, 950.0])
            .with_min_inner_size([900.0, 600.0]),
        ..Default::default()
    };
    eframe::run_native(
        "memdrive",
        options,
        Box::new(|cc| {
            let app = MemdriveApp::new(cc).map_err(|e| e.to_string())?;
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the app window: {e}"))
}
