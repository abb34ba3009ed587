//! Mesos's v1 HTTP APIs as data: the JSON of their calls and events and the
//! RecordIO framing of their streams, so that frameworks, executors and
//! tools written for Mesos (pymesos, mesos-go's v1 client, mesoshttp, curl)
//! talk to rmesos unchanged. What serves them is elsewhere: the master's
//! `/api/v1/scheduler` (master/src/api/), the slave's `/api/v1/executor`.
//!
//! - [`recordio`]: `<length>\n<record>` framing, encoder and decoder;
//! - [`json`]: the .proto's JSON (ids, resources, infos, statuses) to and
//!   from this crate's types;
//! - [`agent`]: `agent.proto`'s operator calls (parsed) and answers (built);
//! - [`executor`]: `executor.proto`'s `Call` (parsed, validated) and `Event` (built);
//! - [`scheduler`]: `scheduler.proto`'s `Call` (parsed, validated) and
//!   `Event` (built);
//! - [`master`]: `master.proto`'s operator `Call` and the framing of its
//!   answers and events; [`state`]: `Task` as the operator APIs show it.
//!
//! Only JSON (`application/json`) is spoken; Mesos's protobuf encoding is
//! refused with 415 by the servers. Where Mesos's docs and its .proto
//! disagree, the .proto wins (`{"type":"OFFERS","offers":{"offers":[..]}}`).

pub mod agent;
pub mod executor;
pub mod json;
pub mod master;
pub mod recordio;
pub mod scheduler;
pub mod state;

/// Why a call is refused: a one-line reason, the body of a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct V1Error(pub String);

impl V1Error {
    pub fn new(reason: impl Into<String>) -> V1Error {
        V1Error(reason.into())
    }
}

/// The Mesos release whose APIs rmesos speaks, answered by `GET /version`:
/// clients (pymesos...) read it as `X.Y.Z` integers and pick their protocol
/// by it (>= 1.0.0: the v1 APIs).
pub const MESOS_API_VERSION: &str = "1.11.0";

/// `GET /version`'s body, Mesos's shape (libprocess's `/version`): the
/// Mesos version spoken, and rmesos's own in `rmesos_version`.
pub fn version_json() -> serde_json::Value {
    serde_json::json!({
        "version": MESOS_API_VERSION,
        "rmesos_version": env!("CARGO_PKG_VERSION"),
        "build_date": "",
        "build_time": 0.0,
        "build_user": "",
        "git_sha": "",
    })
}

/// The JSON content type, the only one spoken.
pub const JSON: &str = "application/json";

/// Checks a request's `Content-Type` (JSON, with any parameters) and
/// `Accept` (absent, `*/*`, or naming JSON): Err is the status and reason
/// to answer (415 for protobuf or anything else, 406 for an `Accept` that
/// JSON cannot meet), as Mesos answers them.
pub fn check_media_types(content_type: Option<&str>, accept: Option<&str>) -> Result<(), (u16, String)> {
    let ct = content_type.unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if ct != JSON {
        let shown = if ct.is_empty() { "none" } else { ct.as_str() };
        return Err((
            415,
            format!("Expecting 'Content-Type' of application/json (got {shown}; protobuf is not supported)"),
        ));
    }
    if let Some(accept) = accept {
        let ok = accept
            .split(',')
            .map(|a| a.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .any(|a| a == JSON || a == "*/*" || a == "application/*" || a.is_empty());
        if !ok {
            return Err((406, format!("Expecting 'Accept' to allow application/json (got {accept})")));
        }
    }
    Ok(())
}
