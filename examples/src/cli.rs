//! What the example binaries share: the `--master` flag (validated, kept as
//! given so a file is re-read at every detection), wall-clock timestamps for
//! the lines humans read, and logging to stderr.

use std::time::{SystemTime, UNIX_EPOCH};

use rmesos::MasterSpec;

/// clap value parser for `--master`: `host:port`, `ip:port`,
/// `zk://host:port,.../path` (the leader is detected through ZooKeeper), or
/// a file or `file://` URL holding one.
pub fn master_flag(s: &str) -> Result<String, String> {
    match MasterSpec::parse(s).map_err(|e| e.to_string())? {
        MasterSpec::ZooKeeper(url) => {
            url.parse::<libprocess::zookeeper::ZkUrl>().map_err(|e| e.to_string())?;
            Ok(s.trim().to_string())
        }
        MasterSpec::Standalone { .. } => Ok(s.trim().to_string()),
    }
}

/// The user tasks run as: `$USER`, else `root` (as Mesos's default).
pub fn current_user() -> String {
    std::env::var("USER").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "root".to_string())
}

/// Now, for a human (the one place the examples read the wall clock).
pub fn wall_clock() -> String {
    let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
    format_utc(secs)
}

/// `YYYY-MM-DD HH:MM:SS.mmm` (UTC) for seconds since the Unix epoch.
pub fn format_utc(epoch_secs: f64) -> String {
    let millis = (epoch_secs.max(0.0) * 1000.0).round() as i64;
    let (days, ms_of_day) = (millis.div_euclid(86_400_000), millis.rem_euclid(86_400_000));
    // Days to civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, ms) = (ms_of_day / 3_600_000, ms_of_day / 60_000 % 60, ms_of_day / 1000 % 60, ms_of_day % 1000);
    format!("{year:04}-{month:02}-{day:02} {h:02}:{m:02}:{s:02}.{ms:03}")
}

/// Logs to stderr, `info` unless `RUST_LOG` says otherwise.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_utc_dates() {
        assert_eq!(format_utc(0.0), "1970-01-01 00:00:00.000");
        assert_eq!(format_utc(951_782_400.5), "2000-02-29 00:00:00.500");
        assert_eq!(format_utc(1_798_761_599.999), "2026-12-31 23:59:59.999");
    }

    #[test]
    fn master_flag_keeps_every_form_and_refuses_bad_ones() {
        assert_eq!(master_flag(" 127.0.0.1:5050 "), Ok("127.0.0.1:5050".to_string()));
        assert!(master_flag("localhost:5050").is_ok());
        assert!(master_flag("127.0.0.1").unwrap_err().contains("has no port"));
        assert_eq!(master_flag("zk://h:2181/mesos"), Ok("zk://h:2181/mesos".to_string()));
        assert!(master_flag("zk://h:2181/").unwrap_err().contains("ZooKeeper path"));
    }
}
