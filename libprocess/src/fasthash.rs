//! A fast, unkeyed hash for the runtime's hot lookup tables (process ids,
//! message names, peer addresses), looked up once or twice per message.
//!
//! The standard SipHash costs ~20 ns per short string and was a tenth of the
//! local send path. Its keying defends a table against keys chosen to
//! collide; these tables are filled only by this node (spawned processes,
//! installed handlers, peers it sends to), so a remote peer can choose the
//! keys it looks up but not the ones stored, and cannot degrade them. The
//! mixing step is FxHash's (rustc's own hasher).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` using [`FxHasher`].
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// FxHash: rotate, xor a word in, multiply.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn strings_that_differ_hash_differently_and_maps_work() {
        let b = BuildHasherDefault::<FxHasher>::default();
        let ids = ["master", "slave(1)", "slave(2)", "scheduler-0123456789abcdef", "a", "ab"];
        let hashes: std::collections::HashSet<u64> = ids.iter().map(|s| b.hash_one(s)).collect();
        assert_eq!(hashes.len(), ids.len());
        let mut m: FastMap<&str, usize> = FastMap::default();
        for (i, id) in ids.iter().enumerate() {
            m.insert(id, i);
        }
        assert!(ids.iter().enumerate().all(|(i, id)| m.get(id) == Some(&i)));
        assert_eq!(m.get("slave(3)"), None);
    }
}
