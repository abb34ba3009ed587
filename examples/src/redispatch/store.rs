//! Where redispatch keeps its tasks so that a restart resumes where it was
//! (the report's framework kept task descriptions in Redis). [`TaskStore`] is
//! the seam a Redis store would implement; [`FileStore`] is the one here:
//!
//! ```text
//! <state_dir>/framework_id         the framework id, for failover
//! <state_dir>/tasks/<key>.json     one TaskRecord per task
//! ```
//!
//! Every write goes to a temporary file in the same directory, is synced,
//! and is renamed over the old file (then the directory is synced), so a
//! crash leaves either the old or the new record, never a torn one.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use rmesos::FrameworkID;

use super::core::TaskRecord;

/// Largest stored record read back (a record holds one command line).
pub const MAX_RECORD_LEN: u64 = 1024 * 1024;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: corrupt record: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

/// Durable task state.
pub trait TaskStore {
    /// Every stored record (any order) and the stored framework id.
    fn load(&mut self) -> Result<(Vec<TaskRecord>, Option<FrameworkID>), StoreError>;
    /// Writes one record durably, replacing the previous one with its key.
    fn save(&mut self, record: &TaskRecord) -> Result<(), StoreError>;
    /// Writes (or with None removes) the framework id.
    fn save_framework_id(&mut self, id: Option<&FrameworkID>) -> Result<(), StoreError>;
}

/// The file-backed store under `--state_dir`.
pub struct FileStore {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io { path: path.to_path_buf(), source }
}

impl FileStore {
    /// Opens (creating) the store in `dir`.
    pub fn open(dir: impl Into<PathBuf>) -> Result<FileStore, StoreError> {
        let dir = dir.into();
        let tasks = dir.join("tasks");
        fs::create_dir_all(&tasks).map_err(io(&tasks))?;
        Ok(FileStore { dir })
    }

    fn tasks_dir(&self) -> PathBuf {
        self.dir.join("tasks")
    }

    fn framework_path(&self) -> PathBuf {
        self.dir.join("framework_id")
    }
}

/// Writes `bytes` to `path` atomically: temp file, fsync, rename, fsync dir.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io(path))?;
    // The rename is durable once the directory is.
    fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io(dir))?;
    Ok(())
}

fn read_limited(path: &Path) -> Result<String, StoreError> {
    let len = fs::metadata(path).map_err(io(path))?.len();
    if len > MAX_RECORD_LEN {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("larger than {MAX_RECORD_LEN} bytes"),
        });
    }
    fs::read_to_string(path).map_err(io(path))
}

impl TaskStore for FileStore {
    fn load(&mut self) -> Result<(Vec<TaskRecord>, Option<FrameworkID>), StoreError> {
        let dir = self.tasks_dir();
        let mut records = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io(&dir))? {
            let path = entry.map_err(io(&dir))?.path();
            let is_record = path.extension().is_some_and(|e| e == "json")
                && !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if !is_record {
                continue; // a temp file left by a crash mid-write
            }
            let text = read_limited(&path)?;
            let record: TaskRecord = serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt { path: path.clone(), reason: e.to_string() })?;
            if path.file_stem().map(|s| s.to_string_lossy().into_owned()) != Some(record.key.clone()) {
                return Err(StoreError::Corrupt { path, reason: format!("holds key '{}'", record.key) });
            }
            records.push(record);
        }
        let fpath = self.framework_path();
        let framework_id = match fpath.exists() {
            false => None,
            true => {
                let text = read_limited(&fpath)?;
                let id = FrameworkID::new(text.trim())
                    .map_err(|e| StoreError::Corrupt { path: fpath.clone(), reason: e.to_string() })?;
                Some(id)
            }
        };
        Ok((records, framework_id))
    }

    fn save(&mut self, record: &TaskRecord) -> Result<(), StoreError> {
        let path = self.tasks_dir().join(format!("{}.json", record.key));
        let json = serde_json::to_vec_pretty(record)
            .map_err(|e| StoreError::Corrupt { path: path.clone(), reason: e.to_string() })?;
        write_atomically(&path, &json)
    }

    fn save_framework_id(&mut self, id: Option<&FrameworkID>) -> Result<(), StoreError> {
        let path = self.framework_path();
        match id {
            Some(id) => write_atomically(&path, format!("{id}\n").as_bytes()),
            None => match fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&path)(e)),
                _ => Ok(()),
            },
        }
    }
}
