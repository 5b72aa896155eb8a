//! Lenient JSON building blocks for the series parsers.
//!
//! The parsers stream through a body with `serde_json` visitors that *never
//! fail on a type mismatch*: a value of the wrong JSON type is consumed and
//! reported as a [`Kind`], so one bad series can be skipped while the rest of
//! the request is kept. The only errors that reach the caller are the
//! parser's own (syntax, end of input, nesting deeper than 128, invalid
//! UTF-8 or escapes, numbers that overflow a double), which make the whole
//! body invalid JSON.
//!
//! Nothing here allocates per point: strings are borrowed from the body
//! unless they contain escapes, numbers are kept as they came ([`Num`]), and
//! arrays and objects we do not read are skipped with [`IgnoredAny`].

use std::borrow::Cow;
use std::fmt;

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use crate::IntakeError;

/// The JSON type of a value, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
}

impl Kind {
    /// `null`, `a boolean`, `a number`, ... (to follow "found").
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Bool => "a boolean",
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Array => "an array",
            Kind::Object => "an object",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// Largest number of seconds whose milliseconds fit in an `i64`.
const MAX_ABS_SECS: i64 = i64::MAX / 1000;

/// A JSON number as the parser produced it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    U(u64),
    I(i64),
    F(f64),
}

impl Num {
    /// The value as a double (integers above 2^53 round, as in Datadog).
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Num::U(u) => u as f64,
            Num::I(i) => i as f64,
            Num::F(f) => f,
        }
    }

    /// Seconds since the epoch to milliseconds, fractions truncated toward
    /// zero; `None` when out of range.
    pub(crate) fn secs_to_ms(self) -> Option<i64> {
        let secs = match self {
            Num::U(u) => i64::try_from(u).ok()?,
            Num::I(i) => i,
            Num::F(f) => {
                let t = f.trunc();
                // `MAX_ABS_SECS as f64` rounds up a little; `checked_mul`
                // below has the last word.
                if t.is_nan() || t.abs() > MAX_ABS_SECS as f64 {
                    return None;
                }
                t as i64
            }
        };
        secs.checked_mul(1000)
    }

    /// A non-negative count of seconds that fits `u32` (floats truncated).
    pub(crate) fn as_u32_trunc(self) -> Option<u32> {
        match self {
            Num::U(u) => u32::try_from(u).ok(),
            Num::I(i) => u32::try_from(i).ok(),
            Num::F(f) => (f >= 0.0 && f <= f64::from(u32::MAX)).then_some(f as u32),
        }
    }

    /// The number as an exact integer: floats only when integral.
    pub(crate) fn as_exact_i64(self) -> Option<i64> {
        match self {
            Num::U(u) => i64::try_from(u).ok(),
            Num::I(i) => Some(i),
            // `i64::MAX as f64` is 2^63, one above the largest i64.
            Num::F(f) => (f.fract() == 0.0 && f >= i64::MIN as f64 && f < i64::MAX as f64)
                .then_some(f as i64),
        }
    }
}

/// Any JSON value, with only the parts the parsers use kept.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val<'de> {
    Null,
    Bool,
    Num(Num),
    Str(Cow<'de, str>),
    Array,
    Object,
}

impl Val<'_> {
    pub(crate) fn kind(&self) -> Kind {
        match self {
            Val::Null => Kind::Null,
            Val::Bool => Kind::Bool,
            Val::Num(_) => Kind::Number,
            Val::Str(_) => Kind::String,
            Val::Array => Kind::Array,
            Val::Object => Kind::Object,
        }
    }
}

/// A field of an object: `None` when the key is absent.
pub(crate) type Field<'de> = Option<Val<'de>>;

/// Reads an optional string field: absent or null → `Ok(None)`, a string →
/// `Ok(Some)`, anything else → `Err(kind)`.
pub(crate) fn opt_str<'a>(f: &'a Field<'_>) -> Result<Option<&'a str>, Kind> {
    match f {
        None | Some(Val::Null) => Ok(None),
        Some(Val::Str(s)) => Ok(Some(s)),
        Some(v) => Err(v.kind()),
    }
}

/// Reads an optional number field: absent or null → `Ok(None)`.
pub(crate) fn opt_num(f: &Field<'_>) -> Result<Option<Num>, Kind> {
    match f {
        None | Some(Val::Null) => Ok(None),
        Some(Val::Num(n)) => Ok(Some(*n)),
        Some(v) => Err(v.kind()),
    }
}

/// The `Visitor` methods for every JSON type but arrays and objects,
/// answering `Ok($ctor(kind))`.
macro_rules! other_scalars {
    ($ctor:path) => {
        fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($ctor($crate::json::Kind::Bool))
        }
        fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($ctor($crate::json::Kind::Number))
        }
        fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($ctor($crate::json::Kind::Number))
        }
        fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($ctor($crate::json::Kind::Number))
        }
        fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($ctor($crate::json::Kind::String))
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok($ctor($crate::json::Kind::Null))
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok($ctor($crate::json::Kind::Null))
        }
    };
}

/// `visit_seq` that skips the array and answers `Ok($ctor($crate::json::Kind::Array))`.
macro_rules! other_seq {
    ($ctor:path) => {
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok($ctor($crate::json::Kind::Array))
        }
    };
}

/// `visit_map` that skips the object and answers `Ok($ctor($crate::json::Kind::Object))`.
macro_rules! other_map {
    ($ctor:path) => {
        fn visit_map<A: serde::de::MapAccess<'de>>(
            self,
            mut map: A,
        ) -> Result<Self::Value, A::Error> {
            while map
                .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                .is_some()
            {}
            Ok($ctor($crate::json::Kind::Object))
        }
    };
}

pub(crate) use other_scalars;

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Val<'de>, E> {
        Ok(Val::Bool)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val<'de>, E> {
        Ok(Val::Num(Num::I(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val<'de>, E> {
        Ok(Val::Num(Num::U(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Val<'de>, E> {
        Ok(Val::Num(Num::F(v)))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Val<'de>, E> {
        Ok(Val::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Val<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Val::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Val::Object)
    }
}

impl<'de> Deserialize<'de> for Val<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValVisitor)
    }
}

/// An object key, borrowed unless it has escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

/// A value of the shape we wanted, or the JSON type we found instead.
pub(crate) enum Shaped<T> {
    Ok(T),
    Other(Kind),
}

/// What to do with an object's entries.
pub(crate) trait MapVisit<'de> {
    type Out;
    fn visit<A: MapAccess<'de>>(self, map: A) -> Result<Self::Out, A::Error>;
}

/// What to do with an array's elements.
pub(crate) trait SeqVisit<'de> {
    type Out;
    fn visit<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Out, A::Error>;
}

/// Seed: an object handled by `V`, or the kind found instead.
pub(crate) struct Object<V>(pub(crate) V);

/// Seed: an array handled by `V`, or the kind found instead.
pub(crate) struct Array<V>(pub(crate) V);

impl<'de, V: MapVisit<'de>> DeserializeSeed<'de> for Object<V> {
    type Value = Shaped<V::Out>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ObjectVisitor(self.0))
    }
}

impl<'de, V: SeqVisit<'de>> DeserializeSeed<'de> for Array<V> {
    type Value = Shaped<V::Out>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(ArrayVisitor(self.0))
    }
}

struct ObjectVisitor<V>(V);
struct ArrayVisitor<V>(V);

impl<'de, V: MapVisit<'de>> Visitor<'de> for ObjectVisitor<V> {
    type Value = Shaped<V::Out>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.0.visit(map).map(Shaped::Ok)
    }
    other_scalars!(Shaped::Other);
    other_seq!(Shaped::Other);
}

impl<'de, V: SeqVisit<'de>> Visitor<'de> for ArrayVisitor<V> {
    type Value = Shaped<V::Out>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        self.0.visit(seq).map(Shaped::Ok)
    }
    other_scalars!(Shaped::Other);
    other_map!(Shaped::Other);
}

/// How an array-valued field of a series looked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ListState<P> {
    /// The key was not there.
    #[default]
    Absent,
    /// `null`, or another JSON type (`Kind`).
    NotArray(Kind),
    /// An array; the first element that was wrong, if any.
    Array(Option<(usize, P)>),
}

impl<P> ListState<P> {
    pub(crate) fn from_shaped(s: Shaped<Option<(usize, P)>>) -> Self {
        match s {
            Shaped::Ok(problem) => ListState::Array(problem),
            Shaped::Other(kind) => ListState::NotArray(kind),
        }
    }
}

/// Fills a tag vector from a JSON array of strings, normalising each tag
/// (`null` elements are skipped). Answers the first element that is not a
/// string.
pub(crate) struct TagsVisit<'t>(pub(crate) &'t mut Vec<String>);

impl<'de> SeqVisit<'de> for TagsVisit<'_> {
    type Out = Option<(usize, Kind)>;
    fn visit<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Out, A::Error> {
        let mut problem = None;
        let mut i = 0;
        while let Some(v) = seq.next_element::<Val<'de>>()? {
            match v {
                Val::Str(s) => {
                    if let Some(t) = crate::normalize::tag(&s) {
                        self.0.push(t);
                    }
                }
                Val::Null => {}
                other => {
                    if problem.is_none() {
                        problem = Some((i, other.kind()));
                    }
                }
            }
            i += 1;
        }
        Ok(problem)
    }
}

/// Something that takes the elements of the top-level list (`series`, or a
/// check-run array) one by one.
pub(crate) trait ItemSink<'de> {
    /// Deserialises the element at `index` and records its row or rejection.
    /// Only the deserialiser's own errors may be returned.
    fn item<D: Deserializer<'de>>(&mut self, index: usize, d: D) -> Result<(), D::Error>;
}

struct ItemSeed<'s, S> {
    sink: &'s mut S,
    index: usize,
}

impl<'de, S: ItemSink<'de>> DeserializeSeed<'de> for ItemSeed<'_, S> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.sink.item(self.index, d)
    }
}

/// Hands each element of an array to a sink.
pub(crate) struct ListVisit<'s, S>(pub(crate) &'s mut S);

impl<'de, S: ItemSink<'de>> SeqVisit<'de> for ListVisit<'_, S> {
    type Out = ();
    fn visit<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0;
        while seq
            .next_element_seed(ItemSeed {
                sink: &mut *self.0,
                index,
            })?
            .is_some()
        {
            index += 1;
        }
        Ok(())
    }
}

/// The top-level object of a series body: we only read `series`.
struct RootVisit<'s, S> {
    sink: &'s mut S,
}

/// What the top-level object held.
enum Root {
    /// No `series` key.
    Missing,
    /// `series` was not an array.
    NotArray(Kind),
    /// `series` was an array and went through the sink.
    Done,
}

impl<'de, S: ItemSink<'de>> MapVisit<'de> for RootVisit<'_, S> {
    type Out = Root;
    fn visit<A: MapAccess<'de>>(self, mut map: A) -> Result<Root, A::Error> {
        let mut root = Root::Missing;
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            if k == "series" {
                if !matches!(root, Root::Missing) {
                    return Err(de::Error::custom("duplicate field `series`"));
                }
                root = match map.next_value_seed(Array(ListVisit(&mut *self.sink)))? {
                    Shaped::Ok(()) => Root::Done,
                    Shaped::Other(kind) => Root::NotArray(kind),
                };
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(root)
    }
}

/// Parses `{"series": [...]}`, handing each element of `series` to `sink`.
///
/// 400s: not JSON; not an object; no `series`; `series` not an array;
/// `series` twice. An empty `series` array is fine.
pub(crate) fn parse_series_document<'de, S: ItemSink<'de>>(
    body: &'de [u8],
    sink: &mut S,
) -> Result<(), IntakeError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let root = Object(RootVisit { sink })
        .deserialize(&mut de)
        .map_err(IntakeError::from_json)?;
    de.end().map_err(IntakeError::from_json)?;
    match root {
        Shaped::Other(kind) => Err(IntakeError::BadRequest(format!(
            "expected a JSON object with a `series` array, found {kind}"
        ))),
        Shaped::Ok(Root::Missing) => {
            Err(IntakeError::BadRequest("missing field `series`".to_owned()))
        }
        Shaped::Ok(Root::NotArray(kind)) => Err(IntakeError::BadRequest(format!(
            "`series` must be an array, found {kind}"
        ))),
        Shaped::Ok(Root::Done) => Ok(()),
    }
}

/// Where a series is, for rejection details: `series[3]`, or
/// `series[3] "dp.gauge"` once the name is known (cut to 64 characters).
pub(crate) fn at(index: usize, metric: Option<&str>) -> String {
    match metric {
        None => format!("series[{index}]"),
        Some(m) => {
            let shown: String = m.chars().take(64).collect();
            format!("series[{index}] \"{shown}\"")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_to_milliseconds() {
        assert_eq!(Num::U(1_795_644_994).secs_to_ms(), Some(1_795_644_994_000));
        assert_eq!(
            Num::F(1_795_645_004.169_163_5).secs_to_ms(),
            Some(1_795_645_004_000)
        );
        assert_eq!(
            Num::F(1_795_645_006.0).secs_to_ms(),
            Some(1_795_645_006_000)
        );
        assert_eq!(Num::I(-5).secs_to_ms(), Some(-5000));
        assert_eq!(Num::F(-1.9).secs_to_ms(), Some(-1000));
        assert_eq!(Num::U(u64::MAX).secs_to_ms(), None);
        assert_eq!(Num::I(i64::MIN).secs_to_ms(), None);
        assert_eq!(Num::I(MAX_ABS_SECS).secs_to_ms(), Some(MAX_ABS_SECS * 1000));
        assert_eq!(Num::I(MAX_ABS_SECS + 1).secs_to_ms(), None);
        assert_eq!(Num::F(1e300).secs_to_ms(), None);
        assert_eq!(Num::F(f64::NAN).secs_to_ms(), None);
        assert_eq!(Num::F(f64::INFINITY).secs_to_ms(), None);
    }

    #[test]
    fn intervals() {
        assert_eq!(Num::U(10).as_u32_trunc(), Some(10));
        assert_eq!(Num::F(10.9).as_u32_trunc(), Some(10));
        assert_eq!(Num::I(-1).as_u32_trunc(), None);
        assert_eq!(Num::U(u64::from(u32::MAX) + 1).as_u32_trunc(), None);
        assert_eq!(Num::F(f64::NAN).as_u32_trunc(), None);
        assert_eq!(Num::F(3.0).as_exact_i64(), Some(3));
        assert_eq!(Num::F(3.5).as_exact_i64(), None);
    }
}
