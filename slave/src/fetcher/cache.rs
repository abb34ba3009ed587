//! The fetcher cache's bookkeeping (Mesos's fetcher cache), with no I/O:
//! which `(user, URI)` has a file in `--fetcher_cache_dir`, how much of
//! `--fetcher_cache_size` is used or reserved, which file is least recently
//! used, and who downloads a URI wanted by several tasks at once.
//!
//! A fetch asks [`Cache::begin`]: a [`Begin::Hit`] copies or extracts from
//! the cache file (held in use until [`Cache::release`]); [`Begin::Join`]
//! waits for the task already downloading it (single flight), then asks
//! again; [`Begin::Lead`] downloads it: once its size is known
//! [`Cache::reserve`] makes room by evicting the least recently used files
//! not in use (or answers [`NoRoom`]: the download bypasses the cache, as
//! Mesos falls back), then [`Cache::complete`] or [`Cache::abort`].
//! "Recently" is a counter of uses, not a clock.

use std::collections::HashMap;
use std::path::PathBuf;

/// A cache entry's identity: the same URI for two users is two files
/// (Mesos segregates the cache by user).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub user: Option<String>,
    pub uri: String,
}

#[derive(Debug)]
enum Entry {
    /// Being downloaded by a leader; `reserved` once its size is known.
    Fetching {
        file: PathBuf,
        reserved: u64,
    },
    Ready {
        file: PathBuf,
        size: u64,
        last_used: u64,
        in_use: u32,
    },
}

/// What a fetch of a cached URI does now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Begin {
    /// The file is in the cache (now held in use).
    Hit(PathBuf),
    /// Another fetch is downloading it: wait for it, then begin again.
    Join,
    /// Download it into this cache file (then reserve, complete or abort).
    Lead(PathBuf),
    /// The cache is off (`--fetcher_cache_size=0`): fetch into the sandbox.
    Bypass,
}

/// Not enough space even after evicting every file not in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoRoom {
    pub needed: u64,
    pub available: u64,
}

#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    capacity: u64,
    entries: HashMap<Key, Entry>,
    /// Bytes of ready files plus reservations.
    used: u64,
    uses: u64,
    next_file: u64,
}

impl Cache {
    /// An empty cache of `capacity` bytes whose files live in `dir`.
    pub fn new(dir: PathBuf, capacity: u64) -> Cache {
        Cache { dir, capacity, entries: HashMap::new(), used: 0, uses: 0, next_file: 0 }
    }

    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Bytes used by cached files and reserved by downloads.
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Files ready in the cache.
    pub fn files(&self) -> usize {
        self.entries.values().filter(|e| matches!(e, Entry::Ready { .. })).count()
    }

    pub fn begin(&mut self, key: &Key) -> Begin {
        if self.capacity == 0 {
            return Begin::Bypass;
        }
        self.uses += 1;
        match self.entries.get_mut(key) {
            Some(Entry::Ready { file, last_used, in_use, .. }) => {
                *last_used = self.uses;
                *in_use += 1;
                Begin::Hit(file.clone())
            }
            Some(Entry::Fetching { .. }) => Begin::Join,
            None => {
                self.next_file += 1;
                let file = self.dir.join(format!("{}", self.next_file));
                self.entries.insert(key.clone(), Entry::Fetching { file: file.clone(), reserved: 0 });
                Begin::Lead(file)
            }
        }
    }

    /// Makes room for `size` bytes of the download `key` leads: the files
    /// to delete (evicted, least recently used first), or [`NoRoom`] (then
    /// the entry is dropped: the leader fetches into its sandbox).
    pub fn reserve(&mut self, key: &Key, size: u64) -> Result<Vec<PathBuf>, NoRoom> {
        let evictable: u64 = self
            .entries
            .values()
            .map(|e| match e {
                Entry::Ready { size, in_use: 0, .. } => *size,
                _ => 0,
            })
            .sum();
        let free = self.capacity.saturating_sub(self.used);
        if size > free + evictable {
            self.abort(key);
            return Err(NoRoom { needed: size, available: free + evictable });
        }
        let mut evicted = Vec::new();
        while self.capacity.saturating_sub(self.used) < size {
            let victim = self
                .entries
                .iter()
                .filter_map(|(k, e)| match e {
                    Entry::Ready { last_used, in_use: 0, .. } => Some((*last_used, k.clone())),
                    _ => None,
                })
                .min_by_key(|(u, _)| *u)
                .map(|(_, k)| k)
                .expect("enough evictable bytes were counted");
            if let Some(Entry::Ready { file, size, .. }) = self.entries.remove(&victim) {
                self.used -= size;
                evicted.push(file);
            }
        }
        if let Some(Entry::Fetching { reserved, .. }) = self.entries.get_mut(key) {
            *reserved = size;
            self.used += size;
        }
        Ok(evicted)
    }

    /// The download of `key` is in its cache file, `size` bytes: it is
    /// ready (and held in use by the leader). A file larger than reserved
    /// is dropped once the leader releases it (Mesos: "cache files that
    /// have been found to be larger than expected are deleted").
    pub fn complete(&mut self, key: &Key, size: u64) -> bool {
        let Some(Entry::Fetching { file, reserved }) = self.entries.remove(key) else { return false };
        self.used -= reserved;
        if size > reserved {
            // Kept only for this fetch: the leader deletes it after use.
            return false;
        }
        self.used += size;
        self.uses += 1;
        self.entries.insert(key.clone(), Entry::Ready { file, size, last_used: self.uses, in_use: 1 });
        true
    }

    /// The download of `key` failed or bypasses the cache: its entry and
    /// reservation go (waiting fetches begin again).
    pub fn abort(&mut self, key: &Key) {
        if let Some(Entry::Fetching { reserved, .. }) = self.entries.get(key) {
            self.used -= reserved;
            self.entries.remove(key);
        }
    }

    /// A fetch is done with the cache file of `key`.
    pub fn release(&mut self, key: &Key) {
        if let Some(Entry::Ready { in_use, .. }) = self.entries.get_mut(key) {
            *in_use = in_use.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(u: &str) -> Key {
        Key { user: None, uri: u.into() }
    }

    fn lead(c: &mut Cache, k: &Key, size: u64) -> PathBuf {
        let Begin::Lead(f) = c.begin(k) else { panic!("expected to lead") };
        c.reserve(k, size).unwrap();
        assert!(c.complete(k, size));
        c.release(k);
        f
    }

    #[test]
    fn one_download_for_concurrent_fetches_then_hits() {
        let mut c = Cache::new("/c".into(), 100);
        let k = key("http://h/a.tgz");
        let Begin::Lead(f) = c.begin(&k) else { panic!() };
        assert_eq!(c.begin(&k), Begin::Join, "a second task waits for the first download");
        assert_eq!(c.reserve(&k, 40), Ok(vec![]));
        assert_eq!(c.used(), 40);
        assert!(c.complete(&k, 30), "smaller than announced: the real size counts");
        assert_eq!(c.used(), 30);
        assert_eq!(c.begin(&k), Begin::Hit(f.clone()), "the waiter begins again: a hit");
        assert_eq!(c.files(), 1);
        let other_user = Key { user: Some("alice".into()), uri: k.uri.clone() };
        assert!(matches!(c.begin(&other_user), Begin::Lead(g) if g != f), "per user");
    }

    #[test]
    fn least_recently_used_files_not_in_use_are_evicted() {
        let mut c = Cache::new("/c".into(), 100);
        let (a, b, d) = (key("a"), key("b"), key("d"));
        let fa = lead(&mut c, &a, 40);
        let fb = lead(&mut c, &b, 40);
        // a used again: b is now the least recently used.
        assert!(matches!(c.begin(&a), Begin::Hit(_)));
        c.release(&a);
        assert!(matches!(c.begin(&d), Begin::Lead(_)));
        assert_eq!(c.reserve(&d, 50), Ok(vec![fb]));
        assert!(c.complete(&d, 50));
        assert_eq!(c.used(), 90);
        // d still in use by its leader, a not: room for 60 evicts a only... not enough.
        let e = key("e");
        assert!(matches!(c.begin(&e), Begin::Lead(_)));
        assert_eq!(c.reserve(&e, 70), Err(NoRoom { needed: 70, available: 50 }));
        assert_eq!(c.begin(&e), Begin::Lead(c.dir.join("5")), "a refused reservation is dropped");
        c.abort(&e);
        c.release(&d);
        assert!(matches!(c.begin(&e), Begin::Lead(_)));
        let mut evicted = c.reserve(&e, 70).unwrap();
        evicted.sort();
        assert_eq!(evicted.len(), 2);
        assert!(evicted.contains(&fa));
        assert_eq!(c.used(), 70);
    }

    #[test]
    fn aborts_free_the_reservation_and_off_bypasses() {
        let mut c = Cache::new("/c".into(), 10);
        let k = key("x");
        assert!(matches!(c.begin(&k), Begin::Lead(_)));
        c.reserve(&k, 8).unwrap();
        c.abort(&k);
        assert_eq!(c.used(), 0);
        assert!(matches!(c.begin(&k), Begin::Lead(_)), "a failed download is retried by the next fetch");
        c.reserve(&k, 5).unwrap();
        assert!(!c.complete(&k, 11), "larger than reserved: not kept");
        assert_eq!((c.used(), c.files()), (0, 0));
        assert_eq!(Cache::new("/c".into(), 0).begin(&k), Begin::Bypass);
    }
}
