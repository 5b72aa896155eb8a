//! What one remote write request may hold. The defaults are the values
//! Whippet ships with; each says why, and how it compares with Prometheus
//! (whose receiver in 2.42 has no limit of its own: only the TSDB's rules)
//! and VictoriaMetrics (command-line flags of `vminsert`/single-node).

use whippet_tsdb::series::{MAX_METRIC_BYTES, MAX_TAG_BYTES, MAX_TAGS};

/// Size and shape limits of a remote write request. A request that breaks
/// one is refused whole (see [`crate::Error`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Most bytes of the body as sent (snappy-compressed). Default 16 MiB:
    /// Prometheus sends at most `max_samples_per_send` samples per request
    /// (500 in 2.42, 2 000 today), about 30-150 KiB compressed, so this is
    /// a hundred times what a Prometheus sends and still bounds what one
    /// request can make the server buffer. Over it: 413.
    pub max_body_bytes: usize,
    /// Most bytes after decompression, checked against the length the
    /// snappy block announces before anything is allocated. Default 32 MiB,
    /// VictoriaMetrics' `-maxInsertRequestSize`; remote write bodies
    /// compress 3-10 times, so a 16 MiB body of real samples stays under
    /// it. Prometheus reads any size. Over it: 413.
    pub max_decompressed_bytes: usize,
    /// Most series (`TimeSeries` messages) per request. Default 100 000:
    /// fifty times a Prometheus' largest batch (one sample per series);
    /// bounds the per-series work (digests, cache probes) one request can
    /// ask for. Neither Prometheus nor VictoriaMetrics caps it (their size
    /// limits do).
    pub max_series_per_request: usize,
    /// Most samples per request. Default 1 000 000 (16 MiB of decoded
    /// samples): at least 13 bytes each in protobuf, so about what the
    /// decompressed limit allows; neither Prometheus nor VictoriaMetrics
    /// caps it apart from size.
    pub max_samples_per_request: usize,
    /// Most labels per series, `__name__` included. Default 40, as
    /// VictoriaMetrics' `-maxLabelsPerTimeseries` (30 in older releases)
    /// and above Mimir's 30; Prometheus has no default limit (scrape
    /// configs may set `label_limit`). Must be at most the storage engine's
    /// 256 tags + 1.
    pub max_labels_per_series: usize,
    /// Most bytes of a label name. Default 256, VictoriaMetrics'
    /// `-maxLabelNameLen`; Prometheus: no default limit.
    pub max_label_name_bytes: usize,
    /// Most bytes of a label value other than the metric name. Default 767:
    /// a label is stored as the tag `name:value`, which the storage engine
    /// caps at 1 024 bytes, and 256 + 1 + 767 = 1 024. VictoriaMetrics
    /// allows 4 KiB (`-maxLabelValueLen`, it truncates longer values),
    /// Mimir 2 048; Prometheus has no default limit.
    pub max_label_value_bytes: usize,
    /// Most bytes of the metric name (`__name__`'s value). Default 1 024,
    /// the storage engine's limit on a metric name.
    pub max_metric_name_bytes: usize,
    /// Which metric names are accepted.
    pub metric_names: MetricNames,
}

/// The rule for `__name__`'s value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricNames {
    /// Any non-empty UTF-8 name (the default). Prometheus 2.42's receiver
    /// stores any name it is sent (`system.cpu.user` included: only the
    /// text exposition format restricts names), VictoriaMetrics too, and
    /// Prometheus 3 validates names as UTF-8 only. Datadog-style dotted
    /// names sent by remote write stay as they are, and Datadog queries
    /// find them by their usual name.
    Utf8,
    /// Prometheus' classic rule, `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    Legacy,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body_bytes: 16 << 20,
            max_decompressed_bytes: 32 << 20,
            max_series_per_request: 100_000,
            max_samples_per_request: 1_000_000,
            max_labels_per_series: 40,
            max_label_name_bytes: 256,
            max_label_value_bytes: 767,
            max_metric_name_bytes: MAX_METRIC_BYTES,
            metric_names: MetricNames::Utf8,
        }
    }
}

impl Limits {
    /// Checks that every series these limits let through can be stored:
    /// `name:value` within the engine's tag length, the labels within its
    /// tag count, the metric name within its name length. Returns what is
    /// wrong, for the configuration's error message.
    pub fn check(&self) -> Result<(), String> {
        if self.max_label_name_bytes + 1 + self.max_label_value_bytes > MAX_TAG_BYTES {
            return Err(format!(
                "max_label_name_bytes + 1 + max_label_value_bytes must be at most {MAX_TAG_BYTES} \
                 (a label is stored as the tag name:value)"
            ));
        }
        if self.max_labels_per_series > MAX_TAGS + 1 {
            return Err(format!(
                "max_labels_per_series must be at most {} (the storage engine's tags per series, plus the name)",
                MAX_TAGS + 1
            ));
        }
        if self.max_metric_name_bytes > MAX_METRIC_BYTES {
            return Err(format!(
                "max_metric_name_bytes must be at most {MAX_METRIC_BYTES}"
            ));
        }
        if self.max_labels_per_series == 0
            || self.max_series_per_request == 0
            || self.max_samples_per_request == 0
        {
            return Err("the per-request and per-series counts must be at least 1".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fit_the_storage_engine() {
        assert_eq!(Limits::default().check(), Ok(()));
    }

    #[test]
    fn limits_that_the_engine_could_not_store_are_refused() {
        let l = Limits {
            max_label_value_bytes: 768,
            ..Limits::default()
        };
        assert!(l.check().unwrap_err().contains("name:value"));
        let l = Limits {
            max_labels_per_series: MAX_TAGS + 2,
            ..Limits::default()
        };
        assert!(l.check().unwrap_err().contains("max_labels_per_series"));
        let l = Limits {
            max_series_per_request: 0,
            ..Limits::default()
        };
        assert!(l.check().is_err());
    }
}
