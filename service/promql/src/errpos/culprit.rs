//! The culprit search: for an error the grammar accepts but the type
//! checks reject, the smallest sub-expression that still fails, and the
//! position and wording Prometheus gives it.

use super::*;

/// The crate's verdict on one span of the query.
pub(super) fn verdict(query: &str, node: &Node) -> Result<Expr, String> {
    crate_parse(&query[node.start..node.end])
}

/// How many bytes the culprit search may re-parse per byte of the query,
/// and at least. A real query's search re-parses each level of its nesting
/// once (under 10 levels, so under 10 times its length); 16 leaves room
/// and bounds the error path of a hostile query to a few dozen parses of
/// it (then the position is the start of the smallest span found so far).
pub(super) const REPARSE_BYTES_PER_BYTE: usize = 16;
pub(super) const REPARSE_BYTES_FLOOR: usize = 16 * 1024;

/// Locates an error the grammar accepts (`crate_msg` from the crate).
pub(super) fn semantic(
    query: &str,
    toks: &[Tok],
    nodes: &[Node],
    root: usize,
    crate_msg: &str,
) -> (usize, String) {
    let crate_lexes = std::panic::catch_unwind(|| promql_parser::parser::lex::lexer(query).is_ok());
    if !matches!(crate_lexes, Ok(true)) {
        // The crate's lexer rejects what Prometheus' accepts (`foo[5m x]`,
        // which Prometheus reads as `foo[5m:]`): its message, no position.
        return (0, crate_msg.to_string());
    }
    let message = prometheus_wording(crate_msg);
    if verdict(query, &nodes[root]).err().as_deref() != Some(crate_msg) {
        // The recogniser and the crate disagree about the query (a
        // construct one accepts and the other does not): no node to blame.
        return (nodes[root].start, message);
    }
    // Walk down to the smallest span that fails with the same message,
    // within a budget: each level re-parses its children, which on a long
    // chain (`rate(a) + a + a + ...`, the error at the bottom of a left
    // spine) would cost the square of the query's length.
    let budget = REPARSE_BYTES_PER_BYTE * query.len() + REPARSE_BYTES_FLOOR;
    let mut spent = 0;
    let mut at = root;
    'down: loop {
        for &child in &nodes[at].children {
            spent += nodes[child].end - nodes[child].start;
            if spent > budget {
                break 'down;
            }
            if verdict(query, &nodes[child]).err().as_deref() == Some(crate_msg) {
                at = child;
                continue 'down;
            }
        }
        break;
    }
    let node = &nodes[at];
    let child_type = |i: usize| -> Option<ValueType> {
        let c = *node.children.get(i)?;
        verdict(query, &nodes[c]).ok().map(|e| e.value_type())
    };
    let child_start = |i: usize| node.children.get(i).map(|&c| nodes[c].start);
    let pos = if crate_msg.starts_with("expected type ") {
        // A type mismatch names the offending operand, not the call.
        let got = crate_msg.rsplit("got ").next().unwrap_or("");
        match node.kind {
            // The crate checks the aggregated expression (a vector) first,
            // then the parameter.
            NodeKind::Aggregate if crate_msg.starts_with("expected type vector") => {
                child_start(node.children.len().saturating_sub(1))
            }
            NodeKind::Aggregate => child_start(0),
            _ => (0..node.children.len())
                .find(|&i| child_type(i).map(|t| t.to_string()).as_deref() == Some(got))
                .and_then(child_start),
        }
        .unwrap_or(node.start)
    } else if crate_msg.starts_with("set operator")
        || crate_msg.starts_with("binary expression must contain only")
    {
        // Prometheus checks each operand (its own checks first, then its
        // type) before the set operator; the crate checks the operator
        // first, and lets a unary `+` of a range vector through.
        let ok = |t: Option<ValueType>| matches!(t, Some(ValueType::Scalar | ValueType::Vector));
        for (i, &child) in node.children.iter().enumerate().take(2) {
            if ok(child_type(i)) {
                continue;
            }
            let operand = &nodes[child];
            if operand.kind == NodeKind::Unary {
                let inner = verdict(query, &nodes[operand.children[0]]).ok();
                if let Some(t) = inner.map(|e| e.value_type()).filter(|t| !ok(Some(*t))) {
                    let got = match t {
                        ValueType::Matrix => "range vector",
                        ValueType::String => "string",
                        _ => "instant vector",
                    };
                    let msg = format!(
                        "unary expression only allowed on expressions of type scalar or instant vector, got \"{got}\""
                    );
                    return (operand.start, msg);
                }
            }
            return (operand.start, OPERAND_TYPES.into());
        }
        node.start
    } else if crate_msg.starts_with("comparisons between scalars")
        || crate_msg.starts_with("bool modifier can only")
        || crate_msg.contains("must not occur in ON and GROUP")
    {
        match node.kind {
            NodeKind::Binary(op) => op,
            _ => node.start,
        }
    } else if crate_msg.starts_with("ranges only allowed")
        || crate_msg.ends_with("modifiers allowed before range")
    {
        match node.kind {
            NodeKind::Range(bracket) | NodeKind::Subquery(bracket) => bracket,
            _ => node.start,
        }
    } else if crate_msg.contains("duration") {
        duration_position(query, toks, node, crate_msg)
    } else {
        node.start
    };
    (pos, message_for(query, node, crate_msg, message))
}

/// Prometheus' message for a binary operand that is neither a scalar nor
/// an instant vector.
pub(super) const OPERAND_TYPES: &str =
    "binary expression must contain only scalar and instant vector types";

/// The duration token a duration error names: the one quoted in the
/// message, else the first zero one, else the node's first.
pub(super) fn duration_position(query: &str, toks: &[Tok], node: &Node, crate_msg: &str) -> usize {
    let durations: Vec<&Tok> = toks
        .iter()
        .filter(|t| t.kind == Kind::Duration && t.start >= node.start && t.end <= node.end)
        .collect();
    let text = |t: &Tok| &query[t.start..t.end];
    durations
        .iter()
        .find(|t| crate_msg.ends_with(&format!(": {}", text(t))))
        .or_else(|| {
            durations
                .iter()
                .find(|t| text(t).chars().all(|c| !c.is_ascii_digit() || c == '0'))
        })
        .or(durations.first())
        .map_or(node.start, |t| t.start)
}

/// Prometheus' message where it cannot be derived from the crate's alone.
pub(super) fn message_for(query: &str, node: &Node, crate_msg: &str, reworded: String) -> String {
    if node.kind == NodeKind::Aggregate
        && crate_msg.contains("in aggregation expression")
        && !crate_msg.starts_with("expected type vector")
    {
        // The crate says "aggregation expression" for the parameter too.
        return reworded.replace("aggregation expression", "aggregation parameter");
    }
    if node.kind == NodeKind::Number {
        // Go's `strconv.ParseFloat` error, which Prometheus passes on.
        let text = &query[node.start..node.end];
        let why = match text.parse::<f64>() {
            Ok(v) if v.is_infinite() => "value out of range",
            _ => "invalid syntax",
        };
        return format!(
            "error parsing number: strconv.ParseFloat: parsing {}: {why}",
            go_quote_str(text, None)
        );
    }
    reworded
}

/// Rewords one of the crate's messages as Prometheus 2.42 words it: Go's
/// double quotes for names, Prometheus' names for value types.
pub(super) fn prometheus_wording(msg: &str) -> String {
    let types = |s: &str| {
        s.replace("type matrix", "type range vector")
            .replace("type vector", "type instant vector")
            .replace("got matrix", "got range vector")
            .replace("got vector", "got instant vector")
    };
    if let Some(got) = msg
        .strip_prefix("unary expression only allowed on expressions of type scalar or vector, got")
    {
        let got = match got.trim_start_matches(':').trim_start() {
            "matrix" => "range vector",
            "vector" => "instant vector",
            other => other,
        };
        return format!(
            "unary expression only allowed on expressions of type scalar or instant vector, got \"{got}\""
        );
    }
    if let Some(ds) = msg.strip_prefix("not a valid duration string: ") {
        return format!("not a valid duration string: {}", go_quote_str(ds, None));
    }
    if msg.starts_with("no arguments for aggregate expression") {
        return "no arguments for aggregate expression provided".into();
    }
    if msg == "vector matching only allowed between vectors" {
        return "vector matching only allowed between instant vectors".into();
    }
    if let Some(got) = msg.strip_prefix("subquery is only allowed on vector, got ") {
        // Prometheus names the type with its internal name here.
        let got = got.trim_end_matches(" instead");
        return format!("subquery is only allowed on instant vector, got {got} instead");
    }
    let msg = msg.replace(
        "preceded by an vector selector or matrix selector",
        "preceded by an instant vector selector or range vector selector",
    );
    types(&single_to_double_quotes(&msg))
}

/// `'name'` → `"name"` (Go's `%q` of the names the crate quotes).
pub(super) fn single_to_double_quotes(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut rest = msg;
    while let Some(open) = rest.find('\'') {
        let Some(len) = rest[open + 1..].find('\'') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str(&go_quote_str(&rest[open + 1..open + 1 + len], None));
        rest = &rest[open + 2 + len..];
    }
    out.push_str(rest);
    out
}
