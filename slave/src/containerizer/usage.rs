//! A container's resource usage as Mesos's `ResourceStatistics` (the
//! `statistics` object of `/monitor/statistics`; field names from
//! `include/mesos/v1/mesos.proto`). Fields a source cannot tell are left
//! out of the JSON, as protobuf leaves unset optional fields out.

use serde::Serialize;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResourceStatistics {
    /// Unix seconds when the statistics were taken.
    pub timestamp: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_user_time_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_system_time_secs: Option<f64>,
    /// The container's cpus (its resources, whatever enforces them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_limit: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_nr_periods: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_nr_throttled: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpus_throttled_time_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_total_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_rss_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_cache_bytes: Option<u64>,
    /// The container's memory (its resources, whatever enforces them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mem_limit_bytes: Option<u64>,
}

impl ResourceStatistics {
    /// Limits from the container's resources (`cpus`, `mem` in MB).
    pub fn with_limits(mut self, resources: &rmesos::Resources) -> ResourceStatistics {
        self.cpus_limit = Some(resources.cpus());
        self.mem_limit_bytes = Some((resources.mem() * 1024.0 * 1024.0) as u64);
        self
    }

    /// From a container's cgroups.
    pub fn from_cgroups(s: crate::cgroups::Stats, timestamp: f64) -> ResourceStatistics {
        ResourceStatistics {
            timestamp,
            processes: Some(s.processes),
            cpus_user_time_secs: s.cpus_user_time_secs,
            cpus_system_time_secs: s.cpus_system_time_secs,
            cpus_limit: None,
            cpus_nr_periods: s.cpus_nr_periods,
            cpus_nr_throttled: s.cpus_nr_throttled,
            cpus_throttled_time_secs: s.cpus_throttled_time_secs,
            mem_total_bytes: s.mem_total_bytes,
            mem_rss_bytes: s.mem_rss_bytes,
            mem_cache_bytes: s.mem_cache_bytes,
            mem_limit_bytes: None,
        }
    }
}
