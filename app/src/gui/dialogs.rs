//! File dialogs behind a small seam: the app asks a `FileDialogs` for a path on a worker thread
//! so the frame loop never waits, and tests put a scripted implementation in place of the
//! native one.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

/// A file filter: a name and the extensions it admits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filter {
    /// Shown in the dialog.
    pub name: &'static str,
    /// Extensions without the dot.
    pub extensions: &'static [&'static str],
}

/// Weight files.
pub const WEIGHTS: Filter = Filter {
    name: "memdrive weights (safetensors)",
    extensions: &["safetensors"],
};

/// Scenario files.
pub const SCENARIOS: Filter = Filter {
    name: "memdrive scenario (TOML)",
    extensions: &["toml"],
};

/// Asks the user for paths. Called on a worker thread; may block.
pub trait FileDialogs: Send + Sync {
    /// A file to open, or `None` if the user cancelled.
    fn open_file(&self, title: &str, filter: Filter) -> Option<PathBuf>;
    /// A path to save to, or `None` if the user cancelled.
    fn save_file(&self, title: &str, filter: Filter, file_name: &str) -> Option<PathBuf>;
}

/// The desktop's own dialog (through rfd: an XDG portal or zenity on Linux).
pub struct NativeDialogs;

impl FileDialogs for NativeDialogs {
    fn open_file(&self, title: &str, filter: Filter) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title(title)
            .add_filter(filter.name, filter.extensions)
            .pick_file()
    }

    fn save_file(&self, title: &str, filter: Filter, file_name: &str) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title(title)
            .add_filter(filter.name, filter.extensions)
            .set_file_name(file_name)
            .save_file()
    }
}

/// Dialogs that answer from a list prepared in advance (for tests and headless runs): each
/// request takes the next answer; an empty list answers "cancelled".
#[derive(Default)]
pub struct ScriptedDialogs {
    answers: std::sync::Mutex<std::collections::VecDeque<Option<PathBuf>>>,
}

impl ScriptedDialogs {
    /// Dialogs that will answer with `answers`, in order.
    pub fn new(answers: impl IntoIterator<Item = Option<PathBuf>>) -> Self {
        Self {
            answers: std::sync::Mutex::new(answers.into_iter().collect()),
        }
    }

    /// Queues one more answer.
    pub fn push(&self, answer: Option<PathBuf>) {
        if let Ok(mut a) = self.answers.lock() {
            a.push_back(answer);
        }
    }

    fn next(&self) -> Option<PathBuf> {
        self.answers
            .lock()
            .ok()
            .and_then(|mut a| a.pop_front())
            .flatten()
    }
}

impl FileDialogs for ScriptedDialogs {
    fn open_file(&self, _title: &str, _filter: Filter) -> Option<PathBuf> {
        self.next()
    }

    fn save_file(&self, _title: &str, _filter: Filter, _file_name: &str) -> Option<PathBuf> {
        self.next()
    }
}

/// Why a dialog was opened: what to do with the path it gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Load weights into lane `n`.
    LoadWeights(usize),
    /// Save lane `n`'s weights.
    SaveWeights(usize),
    /// Open a scenario file.
    OpenScenario,
    /// Save the model the training panel finished.
    SaveTrained,
}

/// Dialogs in flight.
pub struct Pending {
    dialogs: Arc<dyn FileDialogs>,
    waiting: Vec<(Purpose, Receiver<Option<PathBuf>>)>,
}

impl Pending {
    /// No dialog open yet.
    pub fn new(dialogs: Arc<dyn FileDialogs>) -> Self {
        Self {
            dialogs,
            waiting: Vec::new(),
        }
    }

    /// Whether a dialog for `purpose` is open.
    pub fn is_open(&self, purpose: &Purpose) -> bool {
        self.waiting.iter().any(|(p, _)| p == purpose)
    }

    /// Opens a dialog on a worker thread; `wake` is called when it answers.
    pub fn open(
        &mut self,
        purpose: Purpose,
        title: String,
        filter: Filter,
        save_as: Option<String>,
        wake: impl FnOnce() + Send + 'static,
    ) {
        if self.is_open(&purpose) {
            return;
        }
        let (tx, rx) = channel();
        let dialogs = self.dialogs.clone();
        std::thread::spawn(move || {
            let path = match save_as {
                Some(name) => dialogs.save_file(&title, filter, &name),
                None => dialogs.open_file(&title, filter),
            };
            // The app may have gone; then nobody needs the answer.
            let _ = tx.send(path);
            wake();
        });
        self.waiting.push((purpose, rx));
    }

    /// Answers that arrived since the last call: (purpose, chosen path).
    pub fn answered(&mut self) -> Vec<(Purpose, PathBuf)> {
        let mut done = Vec::new();
        self.waiting.retain(|(purpose, rx)| match rx.try_recv() {
            Ok(answer) => {
                if let Some(path) = answer {
                    done.push((purpose.clone(), path));
                }
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(TryRecvError::Disconnected) => false,
        });
        done
    }

    /// Whether any dialog is still open.
    pub fn any_open(&self) -> bool {
        !self.waiting.is_empty()
    }
}
