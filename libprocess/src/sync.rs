//! Locks that shrug off poisoning, for every module of the runtime.
//!
//! State behind the runtime's locks is updated in single steps; a panic
//! elsewhere cannot leave it half-written, so a poisoned lock is still
//! consistent and is used as is (a panicking handler must not take the
//! node's registry or a peer's queue down with it).

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn read<T>(m: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    m.read().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn write<T>(m: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    m.write().unwrap_or_else(|e| e.into_inner())
}
