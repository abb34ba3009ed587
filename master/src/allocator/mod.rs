//! The allocator: which framework is offered which slave's free resources,
//! by Dominant Resource Fairness (Mesos's hierarchical allocator with its DRF
//! sorter, one role). A pure core: events in (slaves and frameworks come and
//! go, resources come back, filters, suppress/revive), "now" passed in, and
//! [`Allocator::allocate`] returns the allocations for the master to turn
//! into offers. No I/O, no clock reads.
//!
//! The rule, as Mesos applies it: for each slave with allocatable free
//! resources, offer **all** of them to the active, unsuppressed framework with
//! the lowest dominant share (allocated / cluster total, over cpus, mem, disk
//! and other scalars) that has no refuse filter in force on that slave, then
//! re-sort. "Allocated" counts offered and used resources alike.
//!
//! Filters (from declines and from what a launch leaves unused) withhold one
//! slave from one framework until they expire, as long as what the slave has
//! free is within what was refused (Mesos's `RefusedOfferFilter`): if more
//! resources free up there, the framework sees them at once.
//!
//! Designed for 10,000 slaves x 1,000 frameworks:
//! - a cycle looks only at *candidate* slaves: those whose situation changed
//!   since the last cycle (added, reactivated, resources recovered, a filter
//!   on them expired), or all slaves with free resources after an event that
//!   can change every slave's answer (a framework added, activated or
//!   revived). A slave that no framework could take stays out until then;
//! - frameworks sit in a `BTreeSet` ordered by (dominant share, index): the
//!   lowest share is first, a share change is one remove and one insert, and
//!   suppressed or inactive frameworks are not in it at all;
//! - filters live with their slave (a small map by framework index, with a
//!   cheap integer hash, [`IndexHasher`]), so checking the frameworks that
//!   declined a slave touches that slave's memory only; each framework keeps
//!   the set of slaves it filters (for revive and removal). They expire
//!   through a min-heap of deadlines, so an expired filter costs one pop.
//!   The refused resources of a whole declined allocation are shared (`Arc`)
//!   with the slave's record of what was taken, not copied per filter;
//! - a filter's "does it still cover what the slave has free" answer is
//!   cached against the slave's *content generation*: a number that changes
//!   when the slave's free resources change, and comes back to its previous
//!   value when an allocation is returned whole (a decline). So a slave
//!   declined by k frameworks costs k hash lookups per cycle, not k
//!   `Resources::contains` comparisons (string-keyed maps: the measured
//!   bottleneck of Mesos's DeclineOffers benchmark shape in `rmesos-bench`);
//! - shares are recomputed for all frameworks only when the cluster total
//!   changed (a slave came or went), once per cycle;
//! - the candidate list is a reused buffer: no per-cycle collection is built
//!   beyond the returned allocations.
//!
//! State is rebuilt after a master restart from the master's own state (which
//! comes from slave and framework re-registrations): the allocator holds
//! nothing the master does not also hold, except filters, which are soft.

#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::time::Duration;

use libprocess::Time;
use rmesos::{FrameworkID, Resources, SlaveID};

/// Free resources smaller than this (and under [`MIN_MEM`]) are not offered:
/// Mesos's `MIN_CPUS`.
pub const MIN_CPUS: f64 = 0.01;
/// Free memory (MB) below this (and cpus under [`MIN_CPUS`]) is not offered:
/// Mesos's `MIN_MEM`.
pub const MIN_MEM: f64 = 32.0;

/// Stale filter deadlines (filters replaced or removed early) kept in the heap
/// before it is compacted, beyond twice the live filters.
const HEAP_SLACK: usize = 1024;

/// One allocation: all the free resources of one slave, for one framework.
#[derive(Clone, Debug, PartialEq)]
pub struct Allocation {
    pub framework_id: FrameworkID,
    pub slave_id: SlaveID,
    pub resources: Resources,
}

/// Whether Mesos would bother offering `r`.
pub fn allocatable(r: &Resources) -> bool {
    r.cpus() >= MIN_CPUS || r.mem() >= MIN_MEM
}

/// A hasher for the allocator's own `u32` indexes (not attacker-chosen):
/// one multiply, instead of SipHash, on the hottest lookup of a cycle.
#[derive(Default)]
pub struct IndexHasher(u64);

impl Hasher for IndexHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u32(&mut self, i: u32) {
        self.0 = u64::from(i).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type IndexMap<V> = HashMap<u32, V, BuildHasherDefault<IndexHasher>>;
type IndexSet = HashSet<u32, BuildHasherDefault<IndexHasher>>;

#[derive(Debug)]
struct Filter {
    refused: Arc<Resources>,
    expires: Time,
    /// (slave content generation, whether `refused` covers that content):
    /// see the module doc.
    covers: Cell<(u64, bool)>,
}

impl Filter {
    /// Whether the filter withholds the slave (free `available`, content
    /// generation `gen`) at `now`.
    fn holds(&self, available: &Resources, gen: u64, now: Time) -> bool {
        if self.expires <= now {
            return false;
        }
        let (g, covers) = self.covers.get();
        if g == gen {
            return covers;
        }
        let covers = self.refused.contains(available);
        self.covers.set((gen, covers));
        covers
    }
}

#[derive(Debug)]
struct Fw {
    id: FrameworkID,
    allocated: Resources,
    /// Sort key: the dominant share's bits (non-negative f64s sort as their bits).
    key: u64,
    active: bool,
    suppressed: bool,
    /// Slaves (indexes) this framework has a refuse filter on.
    filtered: IndexSet,
}

impl Fw {
    fn eligible(&self) -> bool {
        self.active && !self.suppressed
    }
}

#[derive(Debug)]
struct Sl {
    id: SlaveID,
    total: Resources,
    available: Resources,
    /// Content generation of `available`; see the module doc.
    gen: u64,
    /// What the last allocation took whole, with the generation it had.
    taken: Option<(u64, Arc<Resources>)>,
    /// Refuse filters on this slave, by framework index.
    filters: IndexMap<Filter>,
    active: bool,
    candidate: bool,
}

/// Counters of the last cycle, for tests and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CycleStats {
    /// Slaves looked at.
    pub slaves_considered: usize,
    /// Allocations made.
    pub allocations: usize,
}

/// The DRF allocator; see the module doc.
#[derive(Debug, Default)]
pub struct Allocator {
    fws: Vec<Option<Fw>>,
    fw_index: HashMap<FrameworkID, u32>,
    free_fws: Vec<u32>,
    sls: Vec<Option<Sl>>,
    sl_index: HashMap<SlaveID, u32>,
    free_sls: Vec<u32>,
    total: Resources,
    sorter: BTreeSet<(u64, u32)>,
    shares_dirty: bool,
    all_dirty: bool,
    candidates: Vec<u32>,
    scratch: Vec<u32>,
    expiries: BinaryHeap<Reverse<(Time, u32, u32)>>,
    live_filters: usize,
    /// The last content generation handed out.
    last_gen: u64,
    last: CycleStats,
}

impl Allocator {
    pub fn new() -> Allocator {
        Allocator::default()
    }

    // ---- frameworks ----

    /// Adds a framework (active unless `active` is false). Adding a known one
    /// is a no-op.
    pub fn add_framework(&mut self, id: &FrameworkID, active: bool) {
        if self.fw_index.contains_key(id) {
            return;
        }
        let fw = Fw {
            id: id.clone(),
            allocated: Resources::new(),
            key: 0,
            active,
            suppressed: false,
            filtered: IndexSet::default(),
        };
        let i = match self.free_fws.pop() {
            Some(i) => {
                self.fws[i as usize] = Some(fw);
                i
            }
            None => {
                self.fws.push(Some(fw));
                (self.fws.len() - 1) as u32
            }
        };
        self.fw_index.insert(id.clone(), i);
        if active {
            self.sorter.insert((0, i));
            self.all_dirty = true;
        }
    }

    /// Forgets a framework. The master recovers its offers and tasks first;
    /// whatever it still holds is forgotten with it.
    pub fn remove_framework(&mut self, id: &FrameworkID) {
        let Some(i) = self.fw_index.remove(id) else { return };
        if let Some(fw) = self.fws[i as usize].take() {
            self.sorter.remove(&(fw.key, i));
            self.drop_filters(i, &fw.filtered);
        }
        self.free_fws.push(i);
    }

    /// The framework is connected again: offers resume.
    pub fn activate_framework(&mut self, id: &FrameworkID) {
        self.set_framework(id, |fw| fw.active = true);
    }

    /// The framework is disconnected: no offers until activated.
    pub fn deactivate_framework(&mut self, id: &FrameworkID) {
        self.set_framework(id, |fw| fw.active = false);
    }

    /// No offers to this framework until [`Allocator::revive`].
    pub fn suppress(&mut self, id: &FrameworkID) {
        self.set_framework(id, |fw| fw.suppressed = true);
    }

    /// Clears the framework's filters and suppression.
    pub fn revive(&mut self, id: &FrameworkID) {
        let Some(&i) = self.fw_index.get(id) else { return };
        if let Some(fw) = self.fws[i as usize].as_mut() {
            let filtered = std::mem::take(&mut fw.filtered);
            self.drop_filters(i, &filtered);
        }
        self.set_framework(id, |fw| fw.suppressed = false);
        self.all_dirty = true;
    }

    /// Removes framework `fi`'s filters on the slaves `filtered`.
    fn drop_filters(&mut self, fi: u32, filtered: &IndexSet) {
        for &si in filtered {
            if let Some(sl) = self.sls[si as usize].as_mut() {
                if sl.filters.remove(&fi).is_some() {
                    self.live_filters -= 1;
                }
            }
        }
    }

    fn set_framework(&mut self, id: &FrameworkID, f: impl FnOnce(&mut Fw)) {
        let Some(&i) = self.fw_index.get(id) else { return };
        let Some(fw) = self.fws[i as usize].as_mut() else { return };
        let before = fw.eligible();
        f(fw);
        let after = fw.eligible();
        if before && !after {
            self.sorter.remove(&(fw.key, i));
        } else if !before && after {
            self.sorter.insert((fw.key, i));
            self.all_dirty = true;
        }
    }

    // ---- slaves ----

    /// Adds a slave with `total` resources, of which `used` are already taken
    /// by frameworks (tasks and executors of a re-registering slave). Unknown
    /// frameworks in `used` are skipped (the master adds them first).
    pub fn add_slave(&mut self, id: &SlaveID, total: Resources, used: &[(FrameworkID, Resources)]) {
        if self.sl_index.contains_key(id) {
            return;
        }
        let mut available = total.clone();
        for (fid, r) in used {
            available -= r;
            self.charge(fid, r);
        }
        self.total += &total;
        self.shares_dirty = true;
        self.last_gen += 1;
        let sl = Sl {
            id: id.clone(),
            total,
            available,
            gen: self.last_gen,
            taken: None,
            filters: IndexMap::default(),
            active: true,
            candidate: false,
        };
        let i = match self.free_sls.pop() {
            Some(i) => {
                self.sls[i as usize] = Some(sl);
                i
            }
            None => {
                self.sls.push(Some(sl));
                (self.sls.len() - 1) as u32
            }
        };
        self.sl_index.insert(id.clone(), i);
        self.mark(i);
    }

    /// The slave now has `total` resources (it reregistered with other
    /// ones), of which `taken` are offered or used.
    pub fn update_slave(&mut self, id: &SlaveID, total: Resources, taken: &Resources) {
        let Some(&i) = self.sl_index.get(id) else { return };
        let Some(sl) = self.sls[i as usize].as_mut() else { return };
        self.total -= &sl.total;
        self.total += &total;
        sl.available = total.saturating_sub(taken);
        sl.total = total;
        self.last_gen += 1;
        sl.gen = self.last_gen;
        sl.taken = None;
        self.shares_dirty = true;
        self.mark(i);
    }

    /// Forgets a slave. The master recovers its offers and tasks first.
    pub fn remove_slave(&mut self, id: &SlaveID) {
        let Some(i) = self.sl_index.remove(id) else { return };
        if let Some(sl) = self.sls[i as usize].take() {
            self.total -= &sl.total;
            self.shares_dirty = true;
            self.live_filters -= sl.filters.len();
            for fi in sl.filters.keys() {
                if let Some(fw) = self.fws[*fi as usize].as_mut() {
                    fw.filtered.remove(&i);
                }
            }
        }
        // A stale candidate entry is skipped: the slot is empty or reused
        // (and then marked anyway).
        self.free_sls.push(i);
    }

    /// The slave is connected again: its resources may be offered.
    pub fn activate_slave(&mut self, id: &SlaveID) {
        let Some(&i) = self.sl_index.get(id) else { return };
        if let Some(sl) = self.sls[i as usize].as_mut() {
            sl.active = true;
        }
        self.mark(i);
    }

    /// The slave is disconnected: nothing on it is offered.
    pub fn deactivate_slave(&mut self, id: &SlaveID) {
        let Some(&i) = self.sl_index.get(id) else { return };
        if let Some(sl) = self.sls[i as usize].as_mut() {
            sl.active = false;
        }
    }

    // ---- resources ----

    /// `resources` of slave `slave_id`, allocated to `framework_id`, are free
    /// again (an offer declined or rescinded, what a launch left unused, a
    /// finished task or executor). With `refuse` (a non-zero duration), the
    /// framework does not see them again on that slave before `now + refuse`.
    pub fn recover(
        &mut self,
        framework_id: &FrameworkID,
        slave_id: &SlaveID,
        resources: &Resources,
        refuse: Option<Duration>,
        now: Time,
    ) {
        if resources.is_empty() {
            return;
        }
        let fi = self.fw_index.get(framework_id).copied();
        if let Some(fi) = fi {
            self.uncharge(fi, resources);
        }
        let Some(&si) = self.sl_index.get(slave_id) else { return };
        let mut refused = None;
        if let Some(sl) = self.sls[si as usize].as_mut() {
            sl.available += resources;
            // Never more free than the slave has (a double recover is a bug
            // upstream; do not let it invent resources).
            if !sl.total.contains(&sl.available) {
                tracing::warn!(slave = %sl.id, "recovered more than the slave's total; clamping");
                // total - (total - available): the part of `available` within `total`.
                sl.available = sl.total.saturating_sub(&sl.total.saturating_sub(&sl.available));
            }
            // The allocation came back whole: the content is what it was.
            match sl.taken.take() {
                Some((gen, taken)) if *taken == sl.available => {
                    sl.gen = gen;
                    if *taken == *resources {
                        refused = Some(taken);
                    }
                }
                _ => {
                    self.last_gen += 1;
                    sl.gen = self.last_gen;
                }
            }
        }
        if let (Some(fi), Some(d)) = (fi, refuse.filter(|d| !d.is_zero())) {
            let expires = now + d;
            if let (Some(fw), Some(sl)) = (self.fws[fi as usize].as_mut(), self.sls[si as usize].as_mut()) {
                let refused = refused.unwrap_or_else(|| Arc::new(resources.clone()));
                let covers = Cell::new((u64::MAX, false));
                let old = sl.filters.insert(fi, Filter { refused, expires, covers });
                fw.filtered.insert(si);
                if old.is_none() {
                    self.live_filters += 1;
                }
                self.expiries.push(Reverse((expires, fi, si)));
            }
            self.compact_expiries();
        }
        self.mark(si);
    }

    /// `resources` of slave `slave_id` are used by `framework_id` without
    /// having been offered (tasks a re-registering slave reports).
    pub fn claim(&mut self, framework_id: &FrameworkID, slave_id: &SlaveID, resources: &Resources) {
        if let Some(&si) = self.sl_index.get(slave_id) {
            if let Some(sl) = self.sls[si as usize].as_mut() {
                sl.available -= resources;
                self.last_gen += 1;
                sl.gen = self.last_gen;
                sl.taken = None;
            }
        }
        self.charge(framework_id, resources);
    }

    fn charge(&mut self, fid: &FrameworkID, r: &Resources) {
        let Some(&fi) = self.fw_index.get(fid) else { return };
        if let Some(fw) = self.fws[fi as usize].as_mut() {
            fw.allocated += r;
        }
        self.rekey(fi);
    }

    fn uncharge(&mut self, fi: u32, r: &Resources) {
        if let Some(fw) = self.fws[fi as usize].as_mut() {
            fw.allocated -= r;
        }
        self.rekey(fi);
    }

    /// Recomputes one framework's share and its place in the sorter.
    fn rekey(&mut self, fi: u32) {
        if self.shares_dirty {
            return; // recomputed for all at the next cycle
        }
        let Some(fw) = self.fws[fi as usize].as_mut() else { return };
        let key = fw.allocated.shares(&self.total).to_bits();
        if key == fw.key {
            return;
        }
        if fw.eligible() {
            self.sorter.remove(&(fw.key, fi));
            self.sorter.insert((key, fi));
        }
        fw.key = key;
    }

    fn mark(&mut self, si: u32) {
        if let Some(sl) = self.sls[si as usize].as_mut() {
            if !sl.candidate {
                sl.candidate = true;
                self.candidates.push(si);
            }
        }
    }

    fn compact_expiries(&mut self) {
        if self.expiries.len() <= 2 * self.live_filters + HEAP_SLACK {
            return;
        }
        let sls = &self.sls;
        let live = |&Reverse((t, fi, si)): &Reverse<(Time, u32, u32)>| {
            sls[si as usize].as_ref().and_then(|sl| sl.filters.get(&fi)).is_some_and(|f| f.expires == t)
        };
        let kept: Vec<_> = self.expiries.drain().filter(live).collect();
        self.expiries = kept.into();
    }

    fn expire_filters(&mut self, now: Time) {
        while let Some(&Reverse((t, fi, si))) = self.expiries.peek() {
            if t > now {
                break;
            }
            self.expiries.pop();
            let Some(sl) = self.sls[si as usize].as_mut() else { continue };
            if sl.filters.get(&fi).is_some_and(|f| f.expires == t) {
                sl.filters.remove(&fi);
                if let Some(fw) = self.fws[fi as usize].as_mut() {
                    fw.filtered.remove(&si);
                }
                self.live_filters -= 1;
                self.mark(si);
            }
        }
    }

    fn recompute_shares(&mut self) {
        self.sorter.clear();
        for (i, fw) in self.fws.iter_mut().enumerate() {
            let Some(fw) = fw else { continue };
            fw.key = fw.allocated.shares(&self.total).to_bits();
            if fw.eligible() {
                self.sorter.insert((fw.key, i as u32));
            }
        }
        self.shares_dirty = false;
    }

    /// Runs one allocation cycle at `now`; see the module doc.
    pub fn allocate(&mut self, now: Time) -> Vec<Allocation> {
        self.expire_filters(now);
        if self.shares_dirty {
            self.recompute_shares();
        }
        if self.all_dirty {
            self.all_dirty = false;
            for si in 0..self.sls.len() as u32 {
                if self.sls[si as usize].as_ref().is_some_and(|s| allocatable(&s.available)) {
                    self.mark(si);
                }
            }
        }
        let mut out = Vec::new();
        let mut stats = CycleStats::default();
        let mut cands = std::mem::take(&mut self.scratch);
        std::mem::swap(&mut cands, &mut self.candidates);
        for &si in &cands {
            let Some(sl) = self.sls[si as usize].as_mut() else { continue };
            sl.candidate = false;
            stats.slaves_considered += 1;
            if !sl.active || !allocatable(&sl.available) || self.sorter.is_empty() {
                continue;
            }
            let (available, gen, filters) = (&sl.available, sl.gen, &sl.filters);
            let chosen = self
                .sorter
                .iter()
                .map(|&(_, fi)| fi)
                .find(|fi| !filters.get(fi).is_some_and(|f| f.holds(available, gen, now)));
            let Some(fi) = chosen else { continue };
            let resources = std::mem::take(&mut sl.available);
            sl.taken = Some((sl.gen, Arc::new(resources.clone())));
            self.last_gen += 1;
            sl.gen = self.last_gen;
            let slave_id = sl.id.clone();
            let Some(fw) = self.fws[fi as usize].as_mut() else { continue };
            fw.allocated += &resources;
            let framework_id = fw.id.clone();
            self.rekey(fi);
            stats.allocations += 1;
            out.push(Allocation { framework_id, slave_id, resources });
        }
        cands.clear();
        self.scratch = cands;
        self.last = stats;
        out
    }

    // ---- queries ----

    /// Counters of the last [`Allocator::allocate`].
    pub fn last_cycle(&self) -> CycleStats {
        self.last
    }

    /// The framework's dominant share now.
    pub fn share(&self, id: &FrameworkID) -> Option<f64> {
        let fw = self.fws[*self.fw_index.get(id)? as usize].as_ref()?;
        Some(fw.allocated.shares(&self.total))
    }

    /// What the framework holds (offered and used).
    pub fn allocated(&self, id: &FrameworkID) -> Option<&Resources> {
        Some(&self.fws[*self.fw_index.get(id)? as usize].as_ref()?.allocated)
    }

    /// What the slave has free.
    pub fn available(&self, id: &SlaveID) -> Option<&Resources> {
        Some(&self.sls[*self.sl_index.get(id)? as usize].as_ref()?.available)
    }

    /// The cluster's total resources.
    pub fn total(&self) -> &Resources {
        &self.total
    }

    pub fn is_suppressed(&self, id: &FrameworkID) -> bool {
        self.fw_index.get(id).and_then(|&i| self.fws[i as usize].as_ref()).is_some_and(|fw| fw.suppressed)
    }

    pub fn slave_count(&self) -> usize {
        self.sl_index.len()
    }

    pub fn framework_count(&self) -> usize {
        self.fw_index.len()
    }
}
