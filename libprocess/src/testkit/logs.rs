//! Log capture for tests that lock in the lines an operator reads.
//!
//! [`LogCapture::start`] installs, for the current thread only, a `tracing`
//! subscriber that formats events as the rmesos binaries do (the `fmt`
//! layer: level, target, message, then the event's fields) without ANSI
//! colours or timestamps, and appends them to a shared buffer. A pure core
//! called on the test's thread, or a whole simulation (one thread: see
//! [`super::Sim`]), logs into it; the test then asserts on whole lines.
//! Dropping the capture restores the previous subscriber.
//!
//! `tracing` caches each callsite's interest process-wide, computed the first
//! time the line runs, against the running thread's subscriber. A test
//! thread without one would cache "never" and blind a capture on another
//! thread (a rare flake of parallel tests). So the first capture also
//! installs a global default that is interested in everything and writes
//! nothing (a bare registry), unless the binary already has a global one.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing::subscriber::DefaultGuard;
use tracing_subscriber::fmt::MakeWriter;

/// Most bytes kept (oldest lines are kept; later ones dropped beyond it), so
/// a long simulation cannot grow a test's memory without bound.
pub const MAX_CAPTURED_BYTES: usize = 64 * 1024 * 1024;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut b = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if b.len() + data.len() <= MAX_CAPTURED_BYTES {
            b.extend_from_slice(data);
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = Buffer;
    fn make_writer(&'a self) -> Buffer {
        self.clone()
    }
}

/// Captured log lines of the current thread (see the module doc).
pub struct LogCapture {
    buf: Buffer,
    _guard: DefaultGuard,
}

impl LogCapture {
    /// Captures INFO and above.
    pub fn start() -> LogCapture {
        LogCapture::with_level(tracing::Level::INFO)
    }

    /// Captures `level` and above.
    pub fn with_level(level: tracing::Level) -> LogCapture {
        static GLOBAL: std::sync::Once = std::sync::Once::new();
        GLOBAL.call_once(|| {
            // Err: the binary installed its own, which serves as well.
            let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry());
        });
        let buf = Buffer::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(buf.clone())
            .with_ansi(false)
            .without_time()
            .with_max_level(level)
            .finish();
        let guard = tracing::subscriber::set_default(subscriber);
        LogCapture { buf, _guard: guard }
    }

    /// Every line captured so far.
    pub fn lines(&self) -> Vec<String> {
        let b = self.buf.0.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&b).lines().map(str::to_string).collect()
    }

    /// The lines containing every one of `parts`.
    pub fn matching(&self, parts: &[&str]) -> Vec<String> {
        self.lines().into_iter().filter(|l| parts.iter().all(|p| l.contains(p))).collect()
    }

    /// The one line containing every one of `parts`; panics (showing all
    /// lines) if there is none or more than one.
    pub fn line(&self, parts: &[&str]) -> String {
        let mut found = self.matching(parts);
        match found.len() {
            1 => found.remove(0),
            n => panic!("{n} lines contain all of {parts:?}; captured:\n{}", self.lines().join("\n")),
        }
    }

    /// Like [`LogCapture::line`], and the line is at `level` ("INFO", "WARN"...).
    pub fn line_at(&self, level: &str, parts: &[&str]) -> String {
        let line = self.line(parts);
        assert!(line.trim_start().starts_with(level), "not at {level}: {line}");
        line
    }

    /// Forgets what was captured so far.
    pub fn clear(&self) {
        self.buf.0.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_lines_with_level_and_fields_and_only_while_alive() {
        let cap = LogCapture::start();
        tracing::info!(slave = %"slave(1)@127.0.0.1:5051", "Registered slave S0");
        tracing::debug!("not captured at INFO");
        tracing::warn!("Removing slave S1: health check timed out");
        let line = cap.line_at("INFO", &["Registered slave S0"]);
        assert!(line.contains("slave=slave(1)@127.0.0.1:5051"), "{line}");
        cap.line_at("WARN", &["health check timed out"]);
        assert!(cap.matching(&["not captured"]).is_empty());
        assert_eq!(cap.lines().len(), 2, "{:?}", cap.lines());
        cap.clear();
        assert!(cap.lines().is_empty());
        drop(cap);
        tracing::info!("after the capture");
    }
}
