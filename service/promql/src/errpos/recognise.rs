//! The recogniser of Prometheus 2.42's grammar: recursive descent over the
//! lexer's tokens, accepting 2.42's language and stopping where its yacc
//! parser would, with the same "unexpected ..." message and context. It
//! reads every query: one the crate accepts is refused if 2.42 refuses it
//! (`refused_by_2_42`), one the crate rejects is located (`locate`).

use super::*;

/// Why the recogniser stopped.
pub(super) enum Stop {
    /// A syntax or lexer error: offset and Prometheus' message.
    Syntax(usize, String),
    /// Nesting beyond [`MAX_DEPTH`].
    TooDeep,
}

/// What a node of the recogniser's tree is; the offsets are the ones a
/// semantic error may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NodeKind {
    Number,
    Str,
    Selector,
    Call,
    Aggregate,
    Paren,
    Unary,
    /// The operator's offset.
    Binary(usize),
    /// The `[`'s offset.
    Range(usize),
    /// The `[`'s offset.
    Subquery(usize),
    Offset,
    At,
}

/// A sub-expression: its span in the query and its children (arguments,
/// operands, the expression a modifier applies to), in order.
#[derive(Debug)]
pub(super) struct Node {
    pub(super) kind: NodeKind,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) children: Vec<usize>,
}

pub(super) struct Recogniser<'a> {
    pub(super) q: &'a str,
    pub(super) toks: &'a [Tok],
    pub(super) lex_err: Option<&'a LexError>,
    pub(super) i: usize,
    pub(super) nodes: Vec<Node>,
    /// How many aggregations enclose the current token: yacc's error rule
    /// `aggregate_op error` catches errors inside them.
    pub(super) agg_depth: usize,
    pub(super) depth: usize,
    /// The first error of a grammar action (see [`Recogniser::act`]).
    pub(super) action_err: Option<(usize, String)>,
    /// The label matchers read so far, when reading a metric selector of
    /// the metadata API ([`parse_metric_selector`]); `None` otherwise.
    pub(super) built: Option<Vec<Matcher>>,
}

pub(super) type Res<T> = Result<T, Stop>;

/// Binding power of a binary operator (higher binds tighter); `^` is the
/// only right-associative one.
pub(super) fn precedence(op: &str) -> u8 {
    match op.to_ascii_lowercase().as_str() {
        "or" => 1,
        "and" | "unless" => 2,
        "==" | "!=" | "<" | "<=" | ">" | ">=" => 3,
        "+" | "-" => 4,
        "*" | "/" | "%" | "atan2" => 5,
        _ => 6, // "^"
    }
}

/// How Prometheus describes a token in "unexpected ..." (`Item.desc`).
pub(super) fn describe(q: &str, t: &Tok) -> String {
    let text = &q[t.start..t.end];
    match t.kind {
        Kind::Eof => "end of input".into(),
        Kind::Identifier => format!("identifier {}", go_quote_str(text, None)),
        Kind::MetricIdentifier => format!("metric identifier {}", go_quote_str(text, None)),
        Kind::Number => format!("number {}", go_quote_str(text, Some(10))),
        Kind::Str => format!("string {}", go_quote_str(text, Some(10))),
        Kind::Duration => format!("duration {}", go_quote_str(text, Some(10))),
        Kind::Keyword => format!("<{text}>"),
        Kind::Aggregator => format!("<aggr:{text}>"),
        Kind::BinOp | Kind::RegexOp => format!("<op:{text}>"),
        // 2.42 has no name for `@` in its table of token names, so Go
        // prints the token's number: 57385.
        Kind::At => format!("\"<Item 57385>\" <op:{text}>"),
        Kind::Preprocessor
        | Kind::LeftParen
        | Kind::RightParen
        | Kind::LeftBrace
        | Kind::RightBrace
        | Kind::LeftBracket
        | Kind::RightBracket
        | Kind::Comma
        | Kind::Colon
        | Kind::Eql => go_quote_str(text, Some(10)),
    }
}

impl<'a> Recogniser<'a> {
    /// A recogniser at the start of `q`'s tokens `toks` (with the lexer's
    /// error, if any, after them); `built` collects the matchers of a
    /// metric selector (`Some(vec![])`) or nothing (`None`).
    pub(super) fn new(
        q: &'a str,
        toks: &'a [Tok],
        lex_err: Option<&'a LexError>,
        built: Option<Vec<Matcher>>,
    ) -> Recogniser<'a> {
        Recogniser {
            q,
            toks,
            lex_err,
            i: 0,
            nodes: Vec::new(),
            agg_depth: 0,
            depth: 0,
            action_err: None,
            built,
        }
    }
}

impl Recogniser<'_> {
    /// The current token; at the scan's end, the lexer's error stops us.
    pub(super) fn peek(&self) -> Res<Tok> {
        match self.toks.get(self.i) {
            Some(t) => Ok(*t),
            None => Err(match self.lex_err {
                Some(e) => Stop::Syntax(e.pos, e.msg.clone()),
                // Unreachable: a scan without error ends with `Eof`.
                None => Stop::Syntax(self.q.len(), "unexpected end of input".into()),
            }),
        }
    }

    pub(super) fn text(&self, t: &Tok) -> &str {
        &self.q[t.start..t.end]
    }

    pub(super) fn bump(&mut self) -> Res<Tok> {
        let t = self.peek()?;
        self.i += 1;
        Ok(t)
    }

    /// "unexpected <token>", in the aggregation context if inside one.
    pub(super) fn unexpected(&self, t: &Tok) -> Stop {
        let ctx = if self.agg_depth > 0 {
            " in aggregation"
        } else {
            ""
        };
        Stop::Syntax(t.start, format!("unexpected {}{ctx}", describe(self.q, t)))
    }

    /// "unexpected <token> in <context>, expected <what>".
    pub(super) fn expected(&self, t: &Tok, context: &str, what: &str) -> Stop {
        Stop::Syntax(
            t.start,
            format!(
                "unexpected {} in {context}, expected {what}",
                describe(self.q, t)
            ),
        )
    }

    pub(super) fn node(
        &mut self,
        kind: NodeKind,
        start: usize,
        end: usize,
        children: Vec<usize>,
    ) -> usize {
        self.nodes.push(Node {
            kind,
            start,
            end,
            children,
        });
        self.nodes.len() - 1
    }

    pub(super) fn start(&mut self) -> Res<usize> {
        let first = self.peek()?;
        if first.kind == Kind::Eof {
            return Err(Stop::Syntax(0, "no expression found in input".into()));
        }
        let root = self.expr(0)?;
        let t = self.peek()?;
        if t.kind != Kind::Eof {
            return Err(self.unexpected(&t));
        }
        Ok(root)
    }

    /// Prometheus' `START_METRIC_SELECTOR vector_selector`: a metric
    /// name and/or `{matchers}`, then the end. Answers the name's token.
    pub(super) fn metric_selector(&mut self) -> Res<Option<Tok>> {
        let t = self.bump()?;
        let text = self.text(&t).to_ascii_lowercase();
        let is_name = match t.kind {
            Kind::Identifier | Kind::MetricIdentifier | Kind::Aggregator | Kind::Preprocessor => {
                true
            }
            Kind::Keyword => matches!(text.as_str(), "by" | "without" | "offset"),
            Kind::BinOp => matches!(text.as_str(), "and" | "or" | "unless"),
            _ => false,
        };
        let name = if t.kind == Kind::LeftBrace {
            self.matchers()?;
            None
        } else if is_name {
            if self.peek()?.kind == Kind::LeftBrace {
                self.bump()?;
                self.matchers()?;
            }
            Some(t)
        } else {
            return Err(self.unexpected(&t));
        };
        let end = self.peek()?;
        if end.kind != Kind::Eof {
            return Err(self.unexpected(&end));
        }
        Ok(name)
    }

    /// Builds the matcher `name op value` into `built`; a value that does
    /// not unquote or a regex that does not compile is the error of
    /// Prometheus' grammar action, at the label's position.
    pub(super) fn build_matcher(&mut self, name: &Tok, op: &Tok, value: &Tok) {
        let id = match self.text(op) {
            "=" => T_EQL,
            "!=" => T_NEQ,
            "=~" => T_EQL_REGEX,
            _ => T_NEQ_REGEX,
        };
        let label = self.text(name).to_owned();
        let built =
            unquote_string(self.text(value)).and_then(|v| Matcher::new_matcher(id, label, v));
        match built {
            Ok(mut m) => {
                // Go's meaning of `\d \w \s \b` (ASCII), as the evaluator's
                // selectors have it (`select::all_matchers`).
                m.op = match m.op {
                    MatchOp::Re(re) => MatchOp::Re(goregex::anchored(&m.value).unwrap_or(re)),
                    MatchOp::NotRe(re) => MatchOp::NotRe(goregex::anchored(&m.value).unwrap_or(re)),
                    op => op,
                };
                self.built.get_or_insert_with(Vec::new).push(m)
            }
            Err(msg) => self.act(name.start, msg),
        }
    }

    pub(super) fn enter(&mut self) -> Res<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Stop::TooDeep);
        }
        Ok(())
    }

    /// A binary expression whose operators bind at least `min_prec`.
    pub(super) fn expr(&mut self, min_prec: u8) -> Res<usize> {
        self.enter()?;
        let mut lhs = self.unary()?;
        loop {
            let t = self.peek()?;
            if t.kind != Kind::BinOp {
                break;
            }
            let prec = precedence(self.text(&t));
            if prec < min_prec {
                break;
            }
            self.bump()?;
            self.bin_modifier()?;
            let next_min = if prec == 6 { prec } else { prec + 1 };
            let rhs = self.expr(next_min)?;
            let start = self.nodes[lhs].start;
            let end = self.nodes[rhs].end;
            lhs = self.node(NodeKind::Binary(t.start), start, end, vec![lhs, rhs]);
        }
        self.depth -= 1;
        Ok(lhs)
    }

    /// Whether `t` can begin an expression (`FIRST(expr)` of the grammar).
    pub(super) fn starts_expr(&self, t: &Tok) -> bool {
        let word = self.text(t).to_ascii_lowercase();
        match t.kind {
            Kind::Number
            | Kind::Str
            | Kind::LeftParen
            | Kind::LeftBrace
            | Kind::Identifier
            | Kind::MetricIdentifier
            | Kind::Aggregator
            | Kind::Preprocessor => true,
            Kind::Keyword => matches!(word.as_str(), "by" | "without" | "offset"),
            Kind::BinOp => matches!(word.as_str(), "+" | "-" | "and" | "or" | "unless"),
            _ => false,
        }
    }

    /// `bool`, `on(...)`/`ignoring(...)`, `group_left(...)`/`group_right`.
    pub(super) fn bin_modifier(&mut self) -> Res<()> {
        let mut t = self.peek()?;
        if t.kind == Kind::Keyword && self.text(&t).eq_ignore_ascii_case("bool") {
            self.bump()?;
            t = self.peek()?;
        }
        let word = self.text(&t).to_ascii_lowercase();
        if t.kind == Kind::Keyword && (word == "on" || word == "ignoring") {
            self.bump()?;
            self.grouping_labels()?;
            let g = self.peek()?;
            let word = self.text(&g).to_ascii_lowercase();
            if g.kind == Kind::Keyword && (word == "group_left" || word == "group_right") {
                self.bump()?;
                let next = self.peek()?;
                if next.kind == Kind::LeftParen {
                    self.grouping_labels()?;
                } else if !self.starts_expr(&next) {
                    // Neither labels nor the right operand: yacc is in the
                    // optional labels' rule when it sees the error.
                    return Err(self.expected(&next, "grouping opts", "\"(\""));
                }
            }
        }
        Ok(())
    }

    /// `( label, ... )` after `by`, `without`, `on`, `ignoring`, `group_*`.
    pub(super) fn grouping_labels(&mut self) -> Res<()> {
        const CTX: &str = "grouping opts";
        let t = self.bump()?;
        if t.kind != Kind::LeftParen {
            return Err(self.expected(&t, CTX, "\"(\""));
        }
        loop {
            let t = self.bump()?;
            if t.kind == Kind::RightParen {
                return Ok(());
            }
            let is_word = matches!(
                t.kind,
                Kind::Identifier
                    | Kind::Keyword
                    | Kind::Aggregator
                    | Kind::Preprocessor
                    | Kind::BinOp
            ) && self.text(&t).starts_with(|c: char| is_alpha(c));
            if !is_word {
                return Err(self.expected(&t, CTX, "label"));
            }
            let sep = self.bump()?;
            match sep.kind {
                Kind::RightParen => return Ok(()),
                Kind::Comma => {}
                _ => return Err(self.expected(&sep, CTX, "\",\" or \")\"")),
            }
        }
    }

    pub(super) fn unary(&mut self) -> Res<usize> {
        let t = self.peek()?;
        if t.kind == Kind::BinOp && matches!(self.text(&t), "+" | "-") {
            self.bump()?;
            self.enter()?;
            let inner = self.expr(6)?;
            self.depth -= 1;
            let end = self.nodes[inner].end;
            return Ok(self.node(NodeKind::Unary, t.start, end, vec![inner]));
        }
        let primary = self.primary()?;
        self.postfix(primary)
    }

    /// `[range]`, `[range:step]`, `offset d`, `@ t` after an expression.
    pub(super) fn postfix(&mut self, mut e: usize) -> Res<usize> {
        loop {
            let t = self.peek()?;
            let start = self.nodes[e].start;
            match t.kind {
                Kind::LeftBracket => {
                    self.bump()?;
                    let d = self.bump()?;
                    if d.kind != Kind::Duration {
                        return Err(self.expected(&d, "subquery selector", "duration"));
                    }
                    // Yacc reduces a duration (and runs its check) before
                    // it reads the next token.
                    self.check_duration(&d);
                    let n = self.bump()?;
                    match n.kind {
                        Kind::RightBracket => {
                            e = self.node(NodeKind::Range(t.start), start, n.end, vec![e]);
                            self.check_range(e);
                        }
                        Kind::Colon => {
                            let mut s = self.bump()?;
                            if s.kind == Kind::Duration {
                                self.check_duration(&s);
                                s = self.bump()?;
                                if s.kind != Kind::RightBracket {
                                    return Err(self.expected(&s, "subquery selector", "\"]\""));
                                }
                            } else if s.kind != Kind::RightBracket {
                                return Err(self.expected(
                                    &s,
                                    "subquery selector",
                                    "duration or \"]\"",
                                ));
                            }
                            e = self.node(NodeKind::Subquery(t.start), start, s.end, vec![e]);
                        }
                        _ => {
                            return Err(self.expected(&n, "subquery or range", "\":\" or \"]\""));
                        }
                    }
                }
                Kind::Keyword if self.text(&t).eq_ignore_ascii_case("offset") => {
                    self.bump()?;
                    let mut d = self.bump()?;
                    if d.kind == Kind::BinOp && self.text(&d) == "-" {
                        d = self.bump()?;
                    }
                    if d.kind != Kind::Duration {
                        return Err(self.expected(&d, "offset", "duration"));
                    }
                    self.check_duration(&d);
                    self.check_modifier(e, "offset");
                    e = self.node(NodeKind::Offset, start, d.end, vec![e]);
                }
                Kind::At => {
                    self.bump()?;
                    let mut v = self.bump()?;
                    let end;
                    let signed = v.kind == Kind::BinOp && matches!(self.text(&v), "+" | "-");
                    let negative = signed && self.text(&v) == "-";
                    if signed {
                        v = self.bump()?;
                    }
                    if v.kind == Kind::Number {
                        self.check_number(&v);
                        self.check_timestamp(start, &v, negative);
                        end = v.end;
                    } else if v.kind == Kind::Preprocessor && !signed {
                        let open = self.bump()?;
                        if open.kind != Kind::LeftParen {
                            return Err(self.expected(&open, "@", "timestamp"));
                        }
                        let close = self.bump()?;
                        if close.kind != Kind::RightParen {
                            return Err(self.expected(&close, "@", "timestamp"));
                        }
                        end = close.end;
                    } else {
                        return Err(self.expected(&v, "@", "timestamp"));
                    }
                    self.check_modifier(e, "@");
                    e = self.node(NodeKind::At, start, end, vec![e]);
                }
                _ => return Ok(e),
            }
        }
    }

    pub(super) fn primary(&mut self) -> Res<usize> {
        let t = self.bump()?;
        let text = self.text(&t).to_ascii_lowercase();
        match t.kind {
            Kind::Number => {
                self.check_number(&t);
                Ok(self.node(NodeKind::Number, t.start, t.end, vec![]))
            }
            Kind::Str => Ok(self.node(NodeKind::Str, t.start, t.end, vec![])),
            Kind::LeftParen => {
                self.enter()?;
                let inner = self.expr(0)?;
                self.depth -= 1;
                let close = self.bump()?;
                if close.kind != Kind::RightParen {
                    return Err(self.unexpected(&close));
                }
                Ok(self.node(NodeKind::Paren, t.start, close.end, vec![inner]))
            }
            Kind::LeftBrace => {
                let end = self.matchers()?;
                Ok(self.node(NodeKind::Selector, t.start, end, vec![]))
            }
            Kind::Identifier if self.peek()?.kind == Kind::LeftParen => {
                let (end, args) = self.call_body()?;
                let name = self.text(&t);
                if !is_prometheus_2_42_function(name) {
                    let msg = format!("unknown function with name {}", go_quote_str(name, None));
                    self.act(t.start, msg);
                }
                Ok(self.node(NodeKind::Call, t.start, end, args))
            }
            Kind::Aggregator
                if self.peek()?.kind == Kind::LeftParen
                    || matches!(self.peek()?.kind, Kind::Keyword)
                        && matches!(
                            self.text(&self.peek()?).to_ascii_lowercase().as_str(),
                            "by" | "without"
                        ) =>
            {
                self.aggregate(t)
            }
            Kind::Identifier | Kind::MetricIdentifier | Kind::Aggregator | Kind::Preprocessor => {
                self.selector(t)
            }
            Kind::Keyword if matches!(text.as_str(), "by" | "without" | "offset") => {
                self.selector(t)
            }
            Kind::BinOp if matches!(text.as_str(), "and" | "or" | "unless") => self.selector(t),
            _ => Err(self.unexpected(&t)),
        }
    }

    /// A metric name, maybe followed by `{matchers}`.
    pub(super) fn selector(&mut self, name: Tok) -> Res<usize> {
        let mut end = name.end;
        if self.peek()?.kind == Kind::LeftBrace {
            self.bump()?;
            end = self.matchers()?;
        }
        Ok(self.node(NodeKind::Selector, name.start, end, vec![]))
    }

    /// The label matchers after `{`; returns the end of the `}`.
    pub(super) fn matchers(&mut self) -> Res<usize> {
        const CTX: &str = "label matching";
        loop {
            let t = self.bump()?;
            match t.kind {
                Kind::RightBrace => return Ok(t.end),
                Kind::Identifier => {}
                _ => return Err(self.expected(&t, CTX, "identifier or \"}\"")),
            }
            let op = self.bump()?;
            let is_op = matches!(op.kind, Kind::Eql | Kind::RegexOp)
                || (op.kind == Kind::BinOp && self.text(&op) == "!=");
            if !is_op {
                return Err(self.expected(&op, CTX, "label matching operator"));
            }
            let v = self.bump()?;
            if v.kind != Kind::Str {
                return Err(self.expected(&v, CTX, "string"));
            }
            if self.built.is_some() {
                self.build_matcher(&t, &op, &v);
            }
            let sep = self.bump()?;
            match sep.kind {
                Kind::RightBrace => return Ok(sep.end),
                Kind::Comma => {}
                _ => return Err(self.expected(&sep, CTX, "\",\" or \"}\"")),
            }
        }
    }

    /// `( expr, ... )` of a call or an aggregation; returns the end of the
    /// `)` and the arguments.
    pub(super) fn call_body(&mut self) -> Res<(usize, Vec<usize>)> {
        let open = self.bump()?;
        if open.kind != Kind::LeftParen {
            return Err(self.unexpected(&open));
        }
        let mut args = Vec::new();
        if self.peek()?.kind == Kind::RightParen {
            return Ok((self.bump()?.end, args));
        }
        self.enter()?;
        'args: loop {
            args.push(self.expr(0)?);
            loop {
                let t = self.bump()?;
                match t.kind {
                    Kind::RightParen => break 'args,
                    Kind::Comma if self.starts_expr(&self.peek()?) => continue 'args,
                    // Prometheus' grammar takes a comma that no argument
                    // follows (`abs(foo,)`, `f(a, ,b)`) and its action
                    // complains; what follows is read as after an argument.
                    Kind::Comma => self.act(
                        t.start,
                        "trailing commas not allowed in function call args".into(),
                    ),
                    _ => return Err(self.unexpected(&t)),
                }
            }
        }
        self.depth -= 1;
        Ok((self.toks[self.i - 1].end, args))
    }

    /// `op [by|without (...)] (args) [by|without (...)]`.
    pub(super) fn aggregate(&mut self, op: Tok) -> Res<usize> {
        self.agg_depth += 1;
        let mut grouped = false;
        let modifier = |r: &Self| -> Res<bool> {
            let t = r.peek()?;
            Ok(t.kind == Kind::Keyword
                && matches!(r.text(&t).to_ascii_lowercase().as_str(), "by" | "without"))
        };
        if modifier(self)? {
            self.bump()?;
            self.grouping_labels()?;
            grouped = true;
        }
        let t = self.peek()?;
        if t.kind != Kind::LeftParen {
            return Err(self.unexpected(&t));
        }
        let (mut end, args) = self.call_body()?;
        if !grouped && modifier(self)? {
            self.bump()?;
            self.grouping_labels()?;
            end = self.toks[self.i - 1].end;
        }
        self.agg_depth -= 1;
        let with_param = matches!(
            self.text(&op).to_ascii_lowercase().as_str(),
            "topk" | "bottomk" | "count_values" | "quantile"
        );
        let wanted = if with_param { 2 } else { 1 };
        if args.is_empty() {
            self.act(
                op.start,
                "no arguments for aggregate expression provided".into(),
            );
        } else if args.len() != wanted {
            let msg = format!(
                "wrong number of arguments for aggregate expression provided, expected {wanted}, got {}",
                args.len()
            );
            self.act(op.start, msg);
        }
        Ok(self.node(NodeKind::Aggregate, op.start, end, args))
    }

    /// Records an error that a grammar action of Prometheus reports while
    /// parsing goes on (unknown function, bad duration or number, a range
    /// or modifier on the wrong expression, an aggregation's argument
    /// count): it comes before any later syntax error. Only the first
    /// counts.
    pub(super) fn act(&mut self, pos: usize, msg: String) {
        if self.action_err.is_none() {
            self.action_err = Some((pos, msg));
        }
    }

    /// Prometheus' `parseDuration` on a duration token.
    pub(super) fn check_duration(&mut self, d: &Tok) {
        if let Err(msg) = check_duration(self.text(d)) {
            self.act(d.start, msg);
        }
    }

    /// Prometheus' `number` on a number token (Go's `ParseInt`, then
    /// `ParseFloat`).
    pub(super) fn check_number(&mut self, t: &Tok) {
        let text = self.text(t);
        let why = if let Some(hex) = text.strip_prefix("0x").or(text.strip_prefix("0X")) {
            let fits = !hex.is_empty() && i64::from_str_radix(hex, 16).is_ok();
            (!fits).then_some("invalid syntax")
        } else {
            match text.parse::<f64>() {
                Err(_) => Some("invalid syntax"),
                Ok(v) if v.is_infinite() && !text.to_ascii_lowercase().contains("inf") => {
                    Some("value out of range")
                }
                Ok(_) => None,
            }
        };
        if let Some(why) = why {
            let msg = format!(
                "error parsing number: strconv.ParseFloat: parsing {}: {why}",
                go_quote_str(text, None)
            );
            self.act(t.start, msg);
        }
    }

    /// `setTimestamp`'s bounds: the `@` time, in seconds, must fit an
    /// `int64`; the error names the expression the `@` applies to.
    pub(super) fn check_timestamp(&mut self, expr_start: usize, v: &Tok, negative: bool) {
        let text = self.text(v);
        let value = match text.strip_prefix("0x").or(text.strip_prefix("0X")) {
            Some(hex) => i64::from_str_radix(hex, 16).map(|v| v as f64).ok(),
            None => text.parse::<f64>().ok(),
        };
        let Some(mut ts) = value else {
            return; // Not a number: `check_number` said so first.
        };
        if negative {
            ts = -ts;
        }
        let bound = i64::MAX as f64;
        if ts.is_nan() || ts >= bound || ts <= -bound {
            let shown = match ts {
                t if t.is_nan() => "NaN".to_string(),
                t if t == f64::INFINITY => "+Inf".to_string(),
                t if t == f64::NEG_INFINITY => "-Inf".to_string(),
                t => format!("{t:.6}"),
            };
            let msg = format!("timestamp out of bounds for @ modifier: {shown}");
            self.act(expr_start, msg);
        }
    }

    /// The base of `e` under its `offset` and `@` modifiers, and whether
    /// those hold an `offset` and an `@`.
    pub(super) fn modifiers(&self, mut e: usize) -> (usize, bool, bool) {
        let (mut offset, mut at) = (false, false);
        loop {
            match self.nodes[e].kind {
                NodeKind::Offset => offset = true,
                NodeKind::At => at = true,
                _ => return (e, offset, at),
            }
            e = self.nodes[e].children[0];
        }
    }

    /// The matrix selector action: a range applies to a bare selector.
    pub(super) fn check_range(&mut self, range: usize) {
        let NodeKind::Range(bracket) = self.nodes[range].kind else {
            return;
        };
        let (base, offset, at) = self.modifiers(self.nodes[range].children[0]);
        let msg = if self.nodes[base].kind != NodeKind::Selector {
            "ranges only allowed for vector selectors"
        } else if offset {
            "no offset modifiers allowed before range"
        } else if at {
            "no @ modifiers allowed before range"
        } else {
            return;
        };
        self.act(bracket, msg.into());
    }

    /// `addOffset` and `setTimestamp`: a modifier applies to a selector, a
    /// range or a subquery, once.
    pub(super) fn check_modifier(&mut self, e: usize, modifier: &str) {
        let (base, offset, at) = self.modifiers(e);
        let start = self.nodes[e].start;
        let base_kind = self.nodes[base].kind;
        if let NodeKind::Range(_) = base_kind {
            let (inner, _, _) = self.modifiers(self.nodes[base].children[0]);
            if self.nodes[inner].kind != NodeKind::Selector {
                self.act(start, "ranges only allowed for vector selectors".into());
                return;
            }
        }
        if !matches!(
            base_kind,
            NodeKind::Selector | NodeKind::Range(_) | NodeKind::Subquery(_)
        ) {
            let msg = format!(
                "{modifier} modifier must be preceded by an instant vector selector or range vector selector or a subquery"
            );
            self.act(start, msg);
        } else if modifier == "offset" && offset {
            self.act(start, "offset may not be set multiple times".into());
        } else if modifier == "@" && at {
            self.act(start, "@ <timestamp> may not be set multiple times".into());
        }
    }
}

/// Prometheus 2.42's `parseDuration`: `model.ParseDuration` (units in the
/// order y w d h m s ms, each at most once, no overflow) and not zero.
pub(super) fn check_duration(ds: &str) -> Result<(), String> {
    const UNITS: [(&str, u128); 7] = [
        ("y", 365 * 24 * 3600 * 1_000_000_000),
        ("w", 7 * 24 * 3600 * 1_000_000_000),
        ("d", 24 * 3600 * 1_000_000_000),
        ("h", 3600 * 1_000_000_000),
        ("m", 60 * 1_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
    ];
    let invalid = || format!("not a valid duration string: {}", go_quote_str(ds, None));
    if ds == "0" {
        return Err("duration must be greater than 0".into());
    }
    if ds.is_empty() {
        return Err("empty duration string".into());
    }
    let mut rest = ds;
    let mut next_unit = 0;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(invalid());
        }
        let value: u128 = rest[..digits].parse().unwrap_or(u128::MAX);
        rest = &rest[digits..];
        let unit = if rest.starts_with("ms") {
            "ms"
        } else {
            rest.get(..1).unwrap_or("")
        };
        let Some(idx) = UNITS[next_unit..].iter().position(|(u, _)| *u == unit) else {
            return Err(invalid());
        };
        let ns_per_unit = UNITS[next_unit + idx].1;
        next_unit += idx + 1;
        rest = &rest[unit.len()..];
        total = value
            .checked_mul(ns_per_unit)
            .and_then(|v| v.checked_add(total))
            .unwrap_or(u128::MAX);
        if total > i64::MAX as u128 {
            return Err("duration out of range".into());
        }
    }
    if total == 0 {
        return Err("duration must be greater than 0".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Semantic errors: which node, which position, Prometheus' words.
