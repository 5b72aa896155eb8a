//! Folding the catalog's log into a new snapshot while the engine runs
//! (the three phases of `Catalog`'s compaction, each under the lock it
//! needs and no more).
//!
//! When: after the flusher's work, if [`Catalog::wants_compaction`] says so
//! (the log is past a minimum size and at least as large as the snapshot),
//! and always at the end of [`Engine::compact`](super::Engine::compact)
//! (so `whippet storage compact` leaves a bare snapshot). Not on open, which
//! stays as fast as a load: a running engine compacts within a flush
//! interval anyway.
//!
//! [`Catalog::wants_compaction`]: crate::catalog::Catalog::wants_compaction

use super::Inner;
use crate::error::Result;

/// Compacts the catalog if its log asks for it (`force`: if it has a log
/// at all). Returns true when it did.
///
/// Runs under `flush_lock`, which serialises compactions with each other
/// and with the flusher's catalog sync and WAL deletion. Writers that create
/// series wait while the entries are encoded (registry read lock) and while
/// the new file is renamed into place (registry write lock); compressing
/// and writing the new file, the slow part, holds no registry lock.
pub(super) fn compact_catalog(inner: &Inner, force: bool) -> Result<bool> {
    let _g = inner.flush_lock.lock();
    let snapshot = {
        let reg = inner.registry.read();
        let wanted = if force {
            reg.catalog.has_log()
        } else {
            reg.catalog.wants_compaction()
        };
        if !wanted {
            return Ok(false);
        }
        reg.catalog.snapshot()?
    };
    let written = snapshot.write()?;
    inner.registry.write().catalog.install(written)?;
    // Makes the rename durable (and what was appended meanwhile).
    inner.registry.read().catalog.sync()?;
    Ok(true)
}
