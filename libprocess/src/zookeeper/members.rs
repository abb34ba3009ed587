//! The pure part of an election: which children of the group znode are
//! members, in what order, and who leads. No I/O, tested directly.

use serde::{Deserialize, Serialize};

/// One member of a group: its sequence number and the data it joined with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The sequence ZooKeeper appended to `<label>_`.
    pub seq: u64,
    /// Opaque data (for Mesos masters: MasterInfo JSON).
    #[serde(with = "serde_bytes")]
    pub data: Vec<u8>,
}

/// The sequence of a child named `<label>_<digits>`, or None for any other
/// child (ignored, as Mesos does: other tools may keep znodes there).
pub fn parse_member(label: &str, child: &str) -> Option<u64> {
    let digits = child.strip_prefix(label)?.strip_prefix('_')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The member sequences among `children`, sorted ascending.
pub fn member_seqs(label: &str, children: &[String]) -> Vec<u64> {
    let mut seqs: Vec<u64> = children.iter().filter_map(|c| parse_member(label, c)).collect();
    seqs.sort_unstable();
    seqs.dedup();
    seqs
}

/// The leader: the member with the lowest sequence.
pub fn leader(members: &[Member]) -> Option<&Member> {
    members.iter().min_by_key(|m| m.seq)
}

/// The znode name of member `seq` (ZooKeeper pads sequences to 10 digits).
pub fn member_name(label: &str, seq: u64) -> String {
    format!("{label}_{seq:010}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_label_underscore_digits() {
        assert_eq!(parse_member("json.info", "json.info_0000000007"), Some(7));
        assert_eq!(parse_member("json.info", "json.info_12"), Some(12));
        for bad in ["info_0000000001", "json.info0000000001", "json.info_", "json.info_12a", "json.info_-1", "x"] {
            assert_eq!(parse_member("json.info", bad), None, "{bad}");
        }
        assert_eq!(parse_member("json.info", "json.info_99999999999999999999999"), None);
    }

    #[test]
    fn lowest_sequence_leads_and_others_are_ignored() {
        let children: Vec<String> = ["json.info_0000000005", "log_replicas", "json.info_0000000002", "info_0000000001"]
            .map(String::from)
            .into();
        assert_eq!(member_seqs("json.info", &children), vec![2, 5]);
        let members = vec![Member { seq: 5, data: b"b".to_vec() }, Member { seq: 2, data: b"a".to_vec() }];
        assert_eq!(leader(&members).map(|m| m.seq), Some(2));
        assert_eq!(leader(&[]), None);
        assert_eq!(member_name("json.info", 3), "json.info_0000000003");
    }
}
