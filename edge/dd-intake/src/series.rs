//! JSON series bodies: `POST /api/v1/series`, `POST /api/v2/series`
//! (`application/json`) and `POST /api/v1/distribution_points`.
//!
//! All three are `{"series": [ <series>, ... ]}` and differ in the shape of
//! a point and of the host:
//!
//! | body | point | type | host |
//! |---|---|---|---|
//! | v1 series | `[ts, value]` | `"gauge"`, `"count"`, `"rate"`, `""`, absent | `host` string, `device` string |
//! | v2 series | `{"timestamp": ts, "value": v}` | `0`–`3` | `resources: [{"type", "name"}]` |
//! | distribution points | `[ts, [v, ...]]` (a bare number is one value) | ignored | `host` string |
//!
//! Each element of `series` goes through a lenient visitor ([`crate::json`])
//! straight into its output row: points and tags are written into the row's
//! own vectors while parsing, strings are borrowed from the body. A series
//! whose content is wrong is skipped ([`Parsed::rejected`]); the rules are in
//! the crate doc.

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess};
use std::fmt;
use whippet_tsdb::{MetricType, Sketch};

use crate::json::{
    Array, Field, ItemSink, Key, Kind, ListState, MapVisit, Num, Object, SeqVisit, Shaped,
    TagsVisit, Val, at, opt_num, opt_str, parse_series_document,
};
use crate::{IntakeError, MetricRow, Parsed, RejectCode, SketchRow, normalize};

/// Parses a `POST /api/v1/series` JSON body (already decoded, see
/// [`decode_body`](crate::body::decode_body)).
///
/// Errors (the whole request is a 400): invalid JSON, a top level that is
/// not an object, `series` absent, not an array or given twice. Everything
/// else is per series: see the crate doc for what is skipped and why.
pub fn parse_series_v1(body: &[u8]) -> Result<Parsed<MetricRow>, IntakeError> {
    parse::<V1Pairs>(body, Dialect::V1)
}

/// Parses a `POST /api/v2/series` body sent as `application/json`.
///
/// Same 400-vs-skip rules as [`parse_series_v1`]; points are
/// `{"timestamp", "value"}` objects, the type is an integer (0 unspecified
/// → gauge, 1 count, 2 rate, 3 gauge) and the host comes from `resources`.
pub fn parse_series_v2_json(body: &[u8]) -> Result<Parsed<MetricRow>, IntakeError> {
    parse::<V2Objects>(body, Dialect::V2)
}

/// Parses a `POST /api/v1/distribution_points` body: each point
/// `[ts, [values...]]` becomes one [`Sketch`] holding those values.
///
/// Same 400-vs-skip rules as [`parse_series_v1`]; `type` and `interval` are
/// ignored (the type is always distribution). A point with an empty value
/// list gives an empty sketch.
pub fn parse_distribution_points(body: &[u8]) -> Result<Parsed<SketchRow>, IntakeError> {
    parse::<DistPairs>(body, Dialect::V1)
}

fn parse<F: PointsFormat>(body: &[u8], dialect: Dialect) -> Result<Parsed<F::Row>, IntakeError> {
    let mut sink = SeriesSink::<F> {
        dialect,
        out: Parsed::new(),
    };
    parse_series_document(body, &mut sink)?;
    Ok(sink.out)
}

/// Which host fields a series has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// `host` and `device` strings.
    V1,
    /// `resources: [{"type", "name"}]`.
    V2,
}

/// Why a point is not usable.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PointProblem {
    /// v1 / distribution: the point is not an array.
    NotArray(Kind),
    /// v2: the point is not an object.
    NotObject(Kind),
    /// v1 / distribution: the array does not have exactly two elements.
    Arity(usize),
    /// v2: no `timestamp`.
    MissingTimestamp,
    /// v2: no `value`.
    MissingValue,
    /// The timestamp is not a number.
    TimestampKind(Kind),
    /// The timestamp (seconds) does not fit in milliseconds as `i64`.
    TimestampRange,
    /// The value is not a number.
    ValueKind(Kind),
    /// The value is NaN or infinite.
    NonFinite,
    /// Distribution: the values are neither an array nor a number.
    ValuesKind(Kind),
    /// Distribution: the `i`th value is not a number.
    ValuesElem(usize, Kind),
}

impl PointProblem {
    pub(crate) fn code(self) -> RejectCode {
        match self {
            PointProblem::NonFinite => RejectCode::NonFiniteValue,
            _ => RejectCode::BadPoint,
        }
    }
}

impl fmt::Display for PointProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PointProblem::NotArray(k) => write!(f, "expected [timestamp, value], found {k}"),
            PointProblem::NotObject(k) => {
                write!(
                    f,
                    "expected {{\"timestamp\": ..., \"value\": ...}}, found {k}"
                )
            }
            PointProblem::Arity(n) => {
                write!(
                    f,
                    "expected [timestamp, value], found an array of {n} elements"
                )
            }
            PointProblem::MissingTimestamp => f.write_str("missing `timestamp`"),
            PointProblem::MissingValue => f.write_str("missing `value`"),
            PointProblem::TimestampKind(k) => {
                write!(f, "timestamp must be a number of seconds, found {k}")
            }
            PointProblem::TimestampRange => f.write_str("timestamp out of range"),
            PointProblem::ValueKind(k) => write!(f, "value must be a number, found {k}"),
            PointProblem::NonFinite => f.write_str("value is NaN or infinite"),
            PointProblem::ValuesKind(k) => {
                write!(f, "values must be an array of numbers, found {k}")
            }
            PointProblem::ValuesElem(i, k) => {
                write!(f, "values[{i}] must be a number, found {k}")
            }
        }
    }
}

/// Timestamp (seconds) and value of a point, checked.
pub(crate) fn check_point(ts: Num, value: f64) -> Result<(i64, f64), PointProblem> {
    let ms = ts.secs_to_ms().ok_or(PointProblem::TimestampRange)?;
    if !value.is_finite() {
        return Err(PointProblem::NonFinite);
    }
    Ok((ms, value))
}

fn ts_of(v: &Val<'_>) -> Result<Num, PointProblem> {
    match v {
        Val::Num(n) => Ok(*n),
        other => Err(PointProblem::TimestampKind(other.kind())),
    }
}

fn value_of(v: &Val<'_>) -> Result<f64, PointProblem> {
    match v {
        Val::Num(n) => Ok(n.as_f64()),
        other => Err(PointProblem::ValueKind(other.kind())),
    }
}

/// One body flavour: how its points look and how a series becomes a row.
trait PointsFormat: Sized {
    type Point;
    type Row;

    /// Reads the elements of `points` into `out`, stopping (but still
    /// consuming the array) at the first bad one, which it answers.
    fn parse_points<'de, A: SeqAccess<'de>>(
        out: &mut Vec<Self::Point>,
        seq: A,
    ) -> Result<Option<(usize, PointProblem)>, A::Error>;

    /// Turns a parsed series into a row, or records why it is skipped.
    fn finish(raw: RawSeries<'_, Self::Point>, index: usize, out: &mut Parsed<Self::Row>);
}

/// Runs `parse_one` on each element of a points array.
fn each_point<'de, A, P, F>(
    out: &mut Vec<P>,
    mut seq: A,
    mut parse_one: F,
) -> Result<Option<(usize, PointProblem)>, A::Error>
where
    A: SeqAccess<'de>,
    F: FnMut(&mut A, bool) -> Result<Option<Result<P, PointProblem>>, A::Error>,
{
    let mut problem = None;
    let mut i = 0;
    // After the first problem, elements are still parsed (the JSON must be
    // valid) but not kept.
    while let Some(p) = parse_one(&mut seq, problem.is_none())? {
        if problem.is_none() {
            match p {
                Ok(p) => out.push(p),
                Err(e) => problem = Some((i, e)),
            }
        }
        i += 1;
    }
    Ok(problem)
}

/// v1 `[ts, value]` points.
struct V1Pairs;

/// The first two elements of an array, and how many it had.
struct Pair<'de> {
    first: Option<Val<'de>>,
    second: Option<Val<'de>>,
    len: usize,
}

struct PairVisit;

impl<'de> SeqVisit<'de> for PairVisit {
    type Out = Pair<'de>;
    fn visit<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Pair<'de>, A::Error> {
        let first = seq.next_element::<Val<'de>>()?;
        let second = match first {
            Some(_) => seq.next_element::<Val<'de>>()?,
            None => None,
        };
        let mut len = usize::from(first.is_some()) + usize::from(second.is_some());
        if second.is_some() {
            while seq.next_element::<IgnoredAny>()?.is_some() {
                len += 1;
            }
        }
        Ok(Pair { first, second, len })
    }
}

fn v1_point(p: Shaped<Pair<'_>>) -> Result<(i64, f64), PointProblem> {
    match p {
        Shaped::Other(k) => Err(PointProblem::NotArray(k)),
        Shaped::Ok(Pair {
            first: Some(ts),
            second: Some(v),
            len: 2,
        }) => check_point(ts_of(&ts)?, value_of(&v)?),
        Shaped::Ok(Pair { len, .. }) => Err(PointProblem::Arity(len)),
    }
}

impl PointsFormat for V1Pairs {
    type Point = (i64, f64);
    type Row = MetricRow;

    fn parse_points<'de, A: SeqAccess<'de>>(
        out: &mut Vec<(i64, f64)>,
        seq: A,
    ) -> Result<Option<(usize, PointProblem)>, A::Error> {
        each_point(out, seq, |seq, _| {
            Ok(seq.next_element_seed(Array(PairVisit))?.map(v1_point))
        })
    }

    fn finish(raw: RawSeries<'_, (i64, f64)>, index: usize, out: &mut Parsed<MetricRow>) {
        finish_float(raw, index, Dialect::V1, out)
    }
}

/// v2 `{"timestamp": ts, "value": v}` points.
struct V2Objects;

struct V2PointVisit;

impl<'de> MapVisit<'de> for V2PointVisit {
    type Out = (Field<'de>, Field<'de>);
    fn visit<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Out, A::Error> {
        let (mut ts, mut value) = (None, None);
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            match &*k {
                "timestamp" => ts = Some(map.next_value::<Val<'de>>()?),
                "value" => value = Some(map.next_value::<Val<'de>>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((ts, value))
    }
}

fn v2_point(p: Shaped<(Field<'_>, Field<'_>)>) -> Result<(i64, f64), PointProblem> {
    match p {
        Shaped::Other(k) => Err(PointProblem::NotObject(k)),
        Shaped::Ok((None, _)) => Err(PointProblem::MissingTimestamp),
        Shaped::Ok((_, None)) => Err(PointProblem::MissingValue),
        Shaped::Ok((Some(ts), Some(v))) => check_point(ts_of(&ts)?, value_of(&v)?),
    }
}

impl PointsFormat for V2Objects {
    type Point = (i64, f64);
    type Row = MetricRow;

    fn parse_points<'de, A: SeqAccess<'de>>(
        out: &mut Vec<(i64, f64)>,
        seq: A,
    ) -> Result<Option<(usize, PointProblem)>, A::Error> {
        each_point(out, seq, |seq, _| {
            Ok(seq.next_element_seed(Object(V2PointVisit))?.map(v2_point))
        })
    }

    fn finish(raw: RawSeries<'_, (i64, f64)>, index: usize, out: &mut Parsed<MetricRow>) {
        finish_float(raw, index, Dialect::V2, out)
    }
}

/// Distribution `[ts, [values...]]` points.
struct DistPairs;

/// The values of one distribution point, inserted into a sketch as they are
/// read (no intermediate vector).
struct ValuesSeed<'s> {
    sketch: &'s mut Sketch,
    /// False once the point is known to be bad: values are then only read.
    keep: bool,
}

/// `Ok(())`, or what was wrong with the values.
type ValuesOutcome = Result<(), PointProblem>;

impl<'de> DeserializeSeed<'de> for ValuesSeed<'_> {
    type Value = ValuesOutcome;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<ValuesOutcome, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for ValuesSeed<'_> {
    type Value = ValuesOutcome;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of numbers")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ValuesOutcome, A::Error> {
        let mut outcome = Ok(());
        let mut i = 0;
        while let Some(v) = seq.next_element::<Val<'de>>()? {
            match v {
                Val::Num(n) if outcome.is_ok() => {
                    if self.keep {
                        self.sketch.insert(n.as_f64());
                    }
                }
                Val::Num(_) => {}
                other => {
                    if outcome.is_ok() {
                        outcome = Err(PointProblem::ValuesElem(i, other.kind()));
                    }
                }
            }
            i += 1;
        }
        Ok(outcome)
    }
    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<ValuesOutcome, E> {
        self.number(v as f64)
    }
    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<ValuesOutcome, E> {
        self.number(v as f64)
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<ValuesOutcome, E> {
        self.number(v)
    }
    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<ValuesOutcome, E> {
        Ok(Err(PointProblem::ValuesKind(Kind::Bool)))
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<ValuesOutcome, E> {
        Ok(Err(PointProblem::ValuesKind(Kind::String)))
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<ValuesOutcome, E> {
        Ok(Err(PointProblem::ValuesKind(Kind::Null)))
    }
    fn visit_none<E: serde::de::Error>(self) -> Result<ValuesOutcome, E> {
        Ok(Err(PointProblem::ValuesKind(Kind::Null)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ValuesOutcome, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Err(PointProblem::ValuesKind(Kind::Object)))
    }
}

impl ValuesSeed<'_> {
    fn number<E>(self, v: f64) -> Result<ValuesOutcome, E> {
        if self.keep {
            self.sketch.insert(v);
        }
        Ok(Ok(()))
    }
}

/// `[ts, [values...]]`: the timestamp, the sketch, and the array length.
struct DistPairVisit {
    keep: bool,
}

impl<'de> SeqVisit<'de> for DistPairVisit {
    type Out = Result<(i64, Sketch), PointProblem>;
    fn visit<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Out, A::Error> {
        let Some(ts) = seq.next_element::<Val<'de>>()? else {
            return Ok(Err(PointProblem::Arity(0)));
        };
        let mut sketch = Sketch::new();
        let Some(values) = seq.next_element_seed(ValuesSeed {
            sketch: &mut sketch,
            keep: self.keep,
        })?
        else {
            return Ok(Err(PointProblem::Arity(1)));
        };
        let mut len = 2;
        while seq.next_element::<IgnoredAny>()?.is_some() {
            len += 1;
        }
        if len != 2 {
            return Ok(Err(PointProblem::Arity(len)));
        }
        let ms = ts_of(&ts).and_then(|n| n.secs_to_ms().ok_or(PointProblem::TimestampRange));
        Ok(ms.and_then(|ms| values.map(|()| (ms, sketch))))
    }
}

impl PointsFormat for DistPairs {
    type Point = (i64, Sketch);
    type Row = SketchRow;

    fn parse_points<'de, A: SeqAccess<'de>>(
        out: &mut Vec<(i64, Sketch)>,
        seq: A,
    ) -> Result<Option<(usize, PointProblem)>, A::Error> {
        each_point(out, seq, |seq, keep| {
            Ok(seq
                .next_element_seed(Array(DistPairVisit { keep }))?
                .map(|p| match p {
                    Shaped::Ok(r) => r,
                    Shaped::Other(k) => Err(PointProblem::NotArray(k)),
                }))
        })
    }

    fn finish(mut raw: RawSeries<'_, (i64, Sketch)>, index: usize, out: &mut Parsed<SketchRow>) {
        let metric = match metric_of(&raw.metric) {
            Ok(m) => m,
            Err((code, msg)) => return out.reject(code, || format!("{}: {msg}", at(index, None))),
        };
        let mut tags = std::mem::take(&mut raw.tags);
        if let Err((code, msg)) = check_points(&raw.points_state, raw.points.is_empty())
            .and_then(|()| check_tags(&raw.tags_state))
            .and_then(|()| host_tags(&mut raw, &mut tags))
        {
            return out.reject(code, || format!("{}: {msg}", at(index, Some(&metric))));
        }
        out.rows.push(SketchRow {
            metric,
            tags,
            points: raw.points,
        });
    }
}

/// A series as read, before it is checked. Points and tags are already in
/// their output vectors.
struct RawSeries<'de, P> {
    metric: Field<'de>,
    mtype: Field<'de>,
    interval: Field<'de>,
    host: Field<'de>,
    device: Field<'de>,
    points: Vec<P>,
    points_state: ListState<PointProblem>,
    tags: Vec<String>,
    tags_state: ListState<Kind>,
    /// v2: the resources, already as tags.
    resource_tags: Vec<String>,
    resources_state: ListState<ResourceProblem>,
}

impl<P> Default for RawSeries<'_, P> {
    fn default() -> Self {
        RawSeries {
            metric: None,
            mtype: None,
            interval: None,
            host: None,
            device: None,
            points: Vec::new(),
            points_state: ListState::Absent,
            tags: Vec::new(),
            tags_state: ListState::Absent,
            resource_tags: Vec::new(),
            resources_state: ListState::Absent,
        }
    }
}

struct PointsVisit<'p, F: PointsFormat>(&'p mut Vec<F::Point>);

impl<'de, F: PointsFormat> SeqVisit<'de> for PointsVisit<'_, F> {
    type Out = Option<(usize, PointProblem)>;
    fn visit<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Out, A::Error> {
        F::parse_points(self.0, seq)
    }
}

/// One element of `series`.
struct SeriesVisit<F> {
    dialect: Dialect,
    _format: std::marker::PhantomData<F>,
}

impl<'de, F: PointsFormat> MapVisit<'de> for SeriesVisit<F> {
    type Out = RawSeries<'de, F::Point>;
    fn visit<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Out, A::Error> {
        let mut r = RawSeries::default();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            match (&*k, self.dialect) {
                ("metric", _) => r.metric = Some(map.next_value()?),
                ("points", _) => {
                    // A repeated key replaces the earlier value.
                    r.points.clear();
                    let s = map.next_value_seed(Array(PointsVisit::<F>(&mut r.points)))?;
                    r.points_state = ListState::from_shaped(s);
                }
                ("tags", _) => {
                    r.tags.clear();
                    let s = map.next_value_seed(Array(TagsVisit(&mut r.tags)))?;
                    r.tags_state = ListState::from_shaped(s);
                }
                ("type", _) => r.mtype = Some(map.next_value()?),
                ("interval", _) => r.interval = Some(map.next_value()?),
                ("host", Dialect::V1) => r.host = Some(map.next_value()?),
                ("device", Dialect::V1) => r.device = Some(map.next_value()?),
                ("resources", Dialect::V2) => {
                    r.resource_tags.clear();
                    let s = map.next_value_seed(Array(ResourcesVisit(&mut r.resource_tags)))?;
                    r.resources_state = ListState::from_shaped(s);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(r)
    }
}

struct SeriesSink<F: PointsFormat> {
    dialect: Dialect,
    out: Parsed<F::Row>,
}

impl<'de, F: PointsFormat> ItemSink<'de> for SeriesSink<F> {
    fn item<D: Deserializer<'de>>(&mut self, index: usize, d: D) -> Result<(), D::Error> {
        let visit = SeriesVisit::<F> {
            dialect: self.dialect,
            _format: std::marker::PhantomData,
        };
        match Object(visit).deserialize(d)? {
            Shaped::Ok(raw) => F::finish(raw, index, &mut self.out),
            Shaped::Other(kind) => self.out.reject(RejectCode::BadField, || {
                format!("{}: expected an object, found {kind}", at(index, None))
            }),
        }
        Ok(())
    }
}

/// Why a v2 resource is not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResourceProblem {
    NotObject(Kind),
    Type(Kind),
    Name(Kind),
}

impl fmt::Display for ResourceProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResourceProblem::NotObject(k) => {
                write!(f, "expected {{\"type\": ..., \"name\": ...}}, found {k}")
            }
            ResourceProblem::Type(k) => write!(f, "`type` must be a string, found {k}"),
            ResourceProblem::Name(k) => write!(f, "`name` must be a string, found {k}"),
        }
    }
}

struct ResourceVisit;

impl<'de> MapVisit<'de> for ResourceVisit {
    type Out = (Field<'de>, Field<'de>);
    fn visit<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Out, A::Error> {
        let (mut rtype, mut name) = (None, None);
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            match &*k {
                "type" => rtype = Some(map.next_value::<Val<'de>>()?),
                "name" => name = Some(map.next_value::<Val<'de>>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok((rtype, name))
    }
}

/// Turns `resources` into tags: `{type: "host", name: n}` → `host:n`, any
/// other `{type: t, name: n}` → `t:n`. A resource with an empty or missing
/// name adds nothing; a missing or empty type is a problem.
struct ResourcesVisit<'t>(&'t mut Vec<String>);

impl<'de> SeqVisit<'de> for ResourcesVisit<'_> {
    type Out = Option<(usize, ResourceProblem)>;
    fn visit<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Out, A::Error> {
        let mut problem = None;
        let mut i = 0;
        while let Some(r) = seq.next_element_seed(Object(ResourceVisit))? {
            let res = match r {
                Shaped::Other(k) => Err(ResourceProblem::NotObject(k)),
                Shaped::Ok((rtype, name)) => match (opt_str(&rtype), opt_str(&name)) {
                    (Err(k), _) => Err(ResourceProblem::Type(k)),
                    (_, Err(k)) => Err(ResourceProblem::Name(k)),
                    (Ok(None | Some("")), _) => Err(ResourceProblem::Type(Kind::Null)),
                    (Ok(Some(t)), Ok(name)) => Ok(name
                        .and_then(|n| normalize::key_value_tag(t, n))
                        .map(|tag| self.0.push(tag))),
                },
            };
            if let Err(p) = res
                && problem.is_none()
            {
                problem = Some((i, p));
            }
            i += 1;
        }
        Ok(problem)
    }
}

/// A reason to skip a series: the code and a message (without the
/// `series[i]` prefix).
type Skip = (RejectCode, String);

fn metric_of(f: &Field<'_>) -> Result<String, Skip> {
    match opt_str(f) {
        Err(k) => Err((
            RejectCode::BadField,
            format!("`metric` must be a string, found {k}"),
        )),
        Ok(None | Some("")) => Err((
            RejectCode::MissingMetricName,
            "missing metric name".to_owned(),
        )),
        Ok(Some(s)) => normalize::metric_name(s).map_err(|e| {
            let shown: String = s.chars().take(64).collect();
            (RejectCode::InvalidMetricName, format!("{e}: \"{shown}\""))
        }),
    }
}

fn interval_of(f: &Field<'_>) -> Result<u32, Skip> {
    match opt_num(f) {
        Err(k) => Err((
            RejectCode::BadField,
            format!("`interval` must be a number of seconds, found {k}"),
        )),
        Ok(None) => Ok(0),
        Ok(Some(n)) => n.as_u32_trunc().ok_or_else(|| {
            (
                RejectCode::BadField,
                format!(
                    "`interval` {} is not a number of seconds from 0 to {}",
                    n.as_f64(),
                    u32::MAX
                ),
            )
        }),
    }
}

/// v1 type strings: `"gauge"`, `""` or absent → gauge; `"count"`, `"rate"`.
/// Matched ASCII-case-insensitively.
fn v1_type(f: &Field<'_>, interval_secs: u32) -> Result<MetricType, Skip> {
    match opt_str(f) {
        Err(k) => Err((
            RejectCode::BadType,
            format!("`type` must be a string, found {k}"),
        )),
        Ok(None) => Ok(MetricType::Gauge),
        Ok(Some(s)) if s.is_empty() || s.eq_ignore_ascii_case("gauge") => Ok(MetricType::Gauge),
        Ok(Some(s)) if s.eq_ignore_ascii_case("count") => Ok(MetricType::Count { interval_secs }),
        Ok(Some(s)) if s.eq_ignore_ascii_case("rate") => Ok(MetricType::Rate { interval_secs }),
        Ok(Some(s)) => {
            let shown: String = s.chars().take(32).collect();
            Err((
                RejectCode::BadType,
                format!(
                    "unknown metric type \"{shown}\": expected \"gauge\", \"count\", \"rate\" or \"\""
                ),
            ))
        }
    }
}

/// v2 type codes (JSON and protobuf): 0 unspecified → gauge, 1 count,
/// 2 rate, 3 gauge.
pub(crate) fn v2_type_code(code: i64, interval_secs: u32) -> Option<MetricType> {
    match code {
        0 | 3 => Some(MetricType::Gauge),
        1 => Some(MetricType::Count { interval_secs }),
        2 => Some(MetricType::Rate { interval_secs }),
        _ => None,
    }
}

pub(crate) fn bad_v2_type(shown: impl fmt::Display) -> Skip {
    (
        RejectCode::BadType,
        format!(
            "unknown metric type {shown}: expected 0 (unspecified), 1 (count), 2 (rate) or 3 (gauge)"
        ),
    )
}

fn v2_type(f: &Field<'_>, interval_secs: u32) -> Result<MetricType, Skip> {
    match opt_num(f) {
        Err(k) => Err((
            RejectCode::BadType,
            format!("`type` must be an integer from 0 to 3, found {k}"),
        )),
        Ok(None) => Ok(MetricType::Gauge),
        Ok(Some(n)) => n
            .as_exact_i64()
            .and_then(|c| v2_type_code(c, interval_secs))
            .ok_or_else(|| bad_v2_type(n.as_f64())),
    }
}

fn check_points(state: &ListState<PointProblem>, empty: bool) -> Result<(), Skip> {
    match state {
        ListState::Absent | ListState::NotArray(Kind::Null) => {
            Err((RejectCode::NoPoints, "no points".to_owned()))
        }
        ListState::NotArray(k) => Err((
            RejectCode::BadField,
            format!("`points` must be an array, found {k}"),
        )),
        ListState::Array(Some((i, p))) => Err((p.code(), format!("points[{i}]: {p}"))),
        ListState::Array(None) if empty => Err((RejectCode::NoPoints, "no points".to_owned())),
        ListState::Array(None) => Ok(()),
    }
}

fn check_tags(state: &ListState<Kind>) -> Result<(), Skip> {
    match state {
        ListState::Absent | ListState::NotArray(Kind::Null) | ListState::Array(None) => Ok(()),
        ListState::NotArray(k) => Err((
            RejectCode::BadField,
            format!("`tags` must be an array of strings, found {k}"),
        )),
        ListState::Array(Some((i, k))) => Err((
            RejectCode::BadField,
            format!("tags[{i}] must be a string, found {k}"),
        )),
    }
}

/// Appends the host/device (v1) or resource (v2) tags.
fn host_tags<P>(raw: &mut RawSeries<'_, P>, tags: &mut Vec<String>) -> Result<(), Skip> {
    for (key, field) in [("host", &raw.host), ("device", &raw.device)] {
        match opt_str(field) {
            Err(k) => {
                return Err((
                    RejectCode::BadField,
                    format!("`{key}` must be a string, found {k}"),
                ));
            }
            Ok(Some(v)) => tags.extend(normalize::key_value_tag(key, v)),
            Ok(None) => {}
        }
    }
    match &raw.resources_state {
        ListState::Absent | ListState::NotArray(Kind::Null) | ListState::Array(None) => {
            tags.append(&mut raw.resource_tags);
            Ok(())
        }
        ListState::NotArray(k) => Err((
            RejectCode::BadField,
            format!("`resources` must be an array, found {k}"),
        )),
        ListState::Array(Some((i, p))) => {
            Err((RejectCode::BadField, format!("resources[{i}]: {p}")))
        }
    }
}

/// The checks, in order (the first failing one names the rejection):
/// metric name, interval, type, points, tags, host/device/resources.
fn finish_float(
    mut raw: RawSeries<'_, (i64, f64)>,
    index: usize,
    dialect: Dialect,
    out: &mut Parsed<MetricRow>,
) {
    let metric = match metric_of(&raw.metric) {
        Ok(m) => m,
        Err((code, msg)) => return out.reject(code, || format!("{}: {msg}", at(index, None))),
    };
    let mut tags = std::mem::take(&mut raw.tags);
    let checked = interval_of(&raw.interval).and_then(|interval| {
        let mtype = match dialect {
            Dialect::V1 => v1_type(&raw.mtype, interval)?,
            Dialect::V2 => v2_type(&raw.mtype, interval)?,
        };
        check_points(&raw.points_state, raw.points.is_empty())?;
        check_tags(&raw.tags_state)?;
        host_tags(&mut raw, &mut tags)?;
        Ok(mtype)
    });
    match checked {
        Ok(mtype) => out.rows.push(MetricRow {
            metric,
            tags,
            mtype,
            points: raw.points,
        }),
        Err((code, msg)) => out.reject(code, || format!("{}: {msg}", at(index, Some(&metric)))),
    }
}
