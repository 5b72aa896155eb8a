//! Identifier newtypes. Each address space has its own type so that a series
//! id can never be passed where an org id or a part sequence is expected.

use std::fmt;

/// An organisation (tenant). Every series, and so every point, belongs to
/// exactly one org; reads never cross orgs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OrgId(pub u32);

/// A series: one (org, metric name, sorted tag set, value kind).
///
/// Ids are assigned densely from 1 by the catalog, in creation order, and are
/// never reused, so postings lists built by appending stay sorted. 0 is never
/// a valid id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesId(pub u64);

/// The sequence number of an immutable part (block file). Larger is newer.
///
/// A part produced by a merge covers the sequence range of its inputs; when two
/// sources hold a point at the same timestamp, the one with the larger sequence
/// wins ("last write wins").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartSeq(pub u64);

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for SeriesId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for PartSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}
