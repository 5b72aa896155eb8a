//! The lexer of Prometheus 2.42 (run on every query: a valid one is
//! checked against 2.42's language, a failing one located): `lex.go`'s
//! states, messages and positions, and Go's quoting of what it names.

/// What a token is, in the terms of Prometheus' grammar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Eof,
    Identifier,
    MetricIdentifier,
    Number,
    Str,
    Duration,
    LeftParen,
    RightParen,
    LeftBrace,
    RightBrace,
    LeftBracket,
    RightBracket,
    Comma,
    Colon,
    /// `=` (a label matcher).
    Eql,
    /// `=~` and `!~`.
    RegexOp,
    /// `+ - * / % ^ == != < <= > >= and or unless atan2`.
    BinOp,
    At,
    /// `offset by without on ignoring group_left group_right bool`.
    Keyword,
    /// `sum avg count min max group stddev stdvar topk bottomk count_values
    /// quantile`.
    Aggregator,
    /// `start end` (the `@` preprocessors).
    Preprocessor,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Tok {
    pub(super) kind: Kind,
    pub(super) start: usize,
    pub(super) end: usize,
}

/// A lexer error: Prometheus' message and the offset it names.
#[derive(Debug, Clone)]
pub(super) struct LexError {
    pub(super) pos: usize,
    pub(super) msg: String,
}

/// The scanner's cursor, Go style: `next` remembers the width of the rune
/// it read so that one `backup` can undo it.
pub(super) struct Cursor<'a> {
    pub(super) s: &'a str,
    pub(super) pos: usize,
    pub(super) start: usize,
    pub(super) width: usize,
}

impl Cursor<'_> {
    pub(super) fn next(&mut self) -> Option<char> {
        match self.s[self.pos..].chars().next() {
            Some(c) => {
                self.width = c.len_utf8();
                self.pos += self.width;
                Some(c)
            }
            None => {
                self.width = 0;
                None
            }
        }
    }

    pub(super) fn backup(&mut self) {
        self.pos -= self.width;
        self.width = 0;
    }

    pub(super) fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    pub(super) fn accept(&mut self, valid: &str) -> bool {
        match self.next() {
            Some(c) if valid.contains(c) => true,
            _ => {
                self.backup();
                false
            }
        }
    }

    pub(super) fn accept_run(&mut self, valid: &str) {
        while self.accept(valid) {}
    }

    pub(super) fn text(&self) -> &str {
        &self.s[self.start..self.pos]
    }
}

pub(super) fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

pub(super) fn is_alpha(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

pub(super) fn is_alnum(c: Option<char>) -> bool {
    matches!(c, Some(c) if is_alpha(c) || c.is_ascii_digit())
}

pub(super) const DIGITS: &str = "0123456789";
pub(super) const HEX_DIGITS: &str = "0123456789abcdefABCDEF";

/// Scans the whole query: the tokens, ending with `Eof` unless the scan
/// stopped at an error, which is then returned beside them.
pub(super) fn lex(s: &str) -> (Vec<Tok>, Option<LexError>) {
    let mut c = Cursor {
        s,
        pos: 0,
        start: 0,
        width: 0,
    };
    let mut toks = Vec::new();
    let mut paren_depth: i64 = 0;
    let mut brace_open = false;
    let mut bracket_open = false;
    let mut got_colon = false;
    macro_rules! emit {
        ($kind:expr) => {{
            toks.push(Tok {
                kind: $kind,
                start: c.start,
                end: c.pos,
            });
            c.start = c.pos;
        }};
    }
    macro_rules! fail {
        ($($arg:tt)*) => {
            return (toks, Some(LexError { pos: c.start, msg: format!($($arg)*) }))
        };
    }
    loop {
        if s[c.pos..].starts_with('#') {
            while let Some(ch) = c.next() {
                if ch == '\n' || ch == '\r' {
                    break;
                }
            }
            c.start = c.pos;
            continue;
        }
        if brace_open {
            let Some(r) = c.next() else {
                fail!("unexpected end of input inside braces");
            };
            match r {
                r if is_space(r) => c.start = c.pos,
                r if is_alpha(r) => {
                    while is_alnum(c.peek()) {
                        c.next();
                    }
                    emit!(Kind::Identifier);
                }
                ',' => emit!(Kind::Comma),
                '"' | '\'' | '`' => {
                    if let Err(msg) = lex_string(&mut c, r) {
                        fail!("{msg}");
                    }
                    emit!(Kind::Str);
                }
                '=' => {
                    if c.next() == Some('~') {
                        emit!(Kind::RegexOp);
                    } else {
                        c.backup();
                        emit!(Kind::Eql);
                    }
                }
                '!' => match c.next() {
                    Some('~') => emit!(Kind::RegexOp),
                    Some('=') => emit!(Kind::BinOp),
                    other => fail!(
                        "unexpected character after '!' inside braces: {}",
                        go_quote_rune(other)
                    ),
                },
                '{' => fail!("unexpected left brace '{{'"),
                '}' => {
                    emit!(Kind::RightBrace);
                    brace_open = false;
                }
                other => fail!(
                    "unexpected character inside braces: {}",
                    go_quote_rune(Some(other))
                ),
            }
            continue;
        }
        let Some(r) = c.next() else {
            if paren_depth != 0 {
                fail!("unclosed left parenthesis");
            }
            if bracket_open {
                fail!("unclosed left bracket");
            }
            toks.push(Tok {
                kind: Kind::Eof,
                start: c.start,
                end: c.pos,
            });
            return (toks, None);
        };
        match r {
            ',' => emit!(Kind::Comma),
            r if is_space(r) => {
                while matches!(c.peek(), Some(x) if is_space(x)) {
                    c.next();
                }
                c.start = c.pos;
            }
            '*' | '/' | '%' | '+' | '-' | '^' => emit!(Kind::BinOp),
            '=' => match c.peek() {
                Some('=') => {
                    c.next();
                    emit!(Kind::BinOp);
                }
                Some('~') => fail!("unexpected character after '=': '~'"),
                _ => emit!(Kind::Eql),
            },
            '!' => match c.next() {
                Some('=') => emit!(Kind::BinOp),
                other => fail!("unexpected character after '!': {}", go_quote_rune(other)),
            },
            '<' | '>' => {
                if c.peek() == Some('=') {
                    c.next();
                }
                emit!(Kind::BinOp);
            }
            r if r.is_ascii_digit()
                || (r == '.' && matches!(c.peek(), Some(d) if d.is_ascii_digit())) =>
            {
                c.backup();
                if scan_number(&mut c) {
                    emit!(Kind::Number);
                } else if accept_remaining_duration(&mut c) {
                    c.backup();
                    emit!(Kind::Duration);
                } else {
                    fail!(
                        "bad number or duration syntax: {}",
                        go_quote_str(c.text(), None)
                    );
                }
            }
            '"' | '\'' | '`' => {
                if let Err(msg) = lex_string(&mut c, r) {
                    fail!("{msg}");
                }
                emit!(Kind::Str);
            }
            r if is_alpha(r) || r == ':' => {
                if !bracket_open {
                    while matches!(c.peek(), Some(x) if is_alpha(x) || x.is_ascii_digit() || x == ':')
                    {
                        c.next();
                    }
                    let kind = word_kind(c.text());
                    emit!(kind);
                } else if got_colon {
                    fail!("unexpected colon {}", go_quote_rune(Some(r)));
                } else {
                    // Prometheus 2.42 takes any letter here for the colon of
                    // a subquery (`foo[5m x]` is `foo[5m:]`); so do we.
                    emit!(Kind::Colon);
                    got_colon = true;
                }
            }
            '(' => {
                emit!(Kind::LeftParen);
                paren_depth += 1;
            }
            ')' => {
                emit!(Kind::RightParen);
                paren_depth -= 1;
                if paren_depth < 0 {
                    // Prometheus emits the parenthesis, then reports the
                    // error at the position after it.
                    toks.pop();
                    fail!("unexpected right parenthesis ')'");
                }
            }
            '{' => {
                emit!(Kind::LeftBrace);
                brace_open = true;
            }
            '[' => {
                if bracket_open {
                    fail!("unexpected left bracket '['");
                }
                got_colon = false;
                emit!(Kind::LeftBracket);
                while matches!(c.peek(), Some(x) if is_space(x)) {
                    c.next();
                }
                c.start = c.pos;
                bracket_open = true;
                // The range or subquery duration must follow at once.
                if scan_number(&mut c) {
                    fail!("missing unit character in duration");
                }
                if !accept_remaining_duration(&mut c) {
                    fail!("bad duration syntax: {}", go_quote_str(c.text(), None));
                }
                c.backup();
                emit!(Kind::Duration);
            }
            ']' => {
                if !bracket_open {
                    fail!("unexpected right bracket ']'");
                }
                emit!(Kind::RightBracket);
                bracket_open = false;
            }
            '@' => emit!(Kind::At),
            other => fail!("unexpected character: {}", go_quote_rune(Some(other))),
        }
    }
}

/// The kind of a word outside braces (keywords are case-insensitive).
pub(super) fn word_kind(word: &str) -> Kind {
    match word.to_ascii_lowercase().as_str() {
        "and" | "or" | "unless" | "atan2" => Kind::BinOp,
        "sum" | "avg" | "count" | "min" | "max" | "group" | "stddev" | "stdvar" | "topk"
        | "bottomk" | "count_values" | "quantile" => Kind::Aggregator,
        "offset" | "by" | "without" | "on" | "ignoring" | "group_left" | "group_right" | "bool" => {
            Kind::Keyword
        }
        "start" | "end" => Kind::Preprocessor,
        "inf" | "nan" => Kind::Number,
        _ if word.contains(':') => Kind::MetricIdentifier,
        _ => Kind::Identifier,
    }
}

/// Scans a number; false when a letter or `.` follows (maybe a duration).
pub(super) fn scan_number(c: &mut Cursor) -> bool {
    let mut digits = DIGITS;
    if c.accept("0") && c.accept("xX") {
        digits = HEX_DIGITS;
    }
    c.accept_run(digits);
    if c.accept(".") {
        c.accept_run(digits);
    }
    if c.accept("eE") {
        c.accept("+-");
        c.accept_run(DIGITS);
    }
    !is_alnum(c.peek())
}

/// After the digits of a duration: its units; true when it is well formed
/// and not followed by a letter or digit (which it consumes, as Prometheus'
/// lexer does, so that the message shows it).
pub(super) fn accept_remaining_duration(c: &mut Cursor) -> bool {
    if !c.accept("smhdwy") {
        return false;
    }
    c.accept("s");
    while c.accept(DIGITS) {
        c.accept_run(DIGITS);
        if !c.accept("smhdw") {
            return false;
        }
        c.accept("s");
    }
    !is_alnum(c.next())
}

/// Scans a quoted string whose opening `quote` was consumed.
pub(super) fn lex_string(c: &mut Cursor, quote: char) -> Result<(), String> {
    if quote == '`' {
        loop {
            match c.next() {
                None => return Err("unterminated raw string".into()),
                Some('`') => return Ok(()),
                Some(_) => {}
            }
        }
    }
    loop {
        match c.next() {
            Some('\\') => lex_escape(c, quote)?,
            Some('\u{fffd}') => return Err("invalid UTF-8 rune".into()),
            None | Some('\n') => return Err("unterminated quoted string".into()),
            Some(ch) if ch == quote => return Ok(()),
            Some(_) => {}
        }
    }
}

/// Checks one escape sequence (the `\` was consumed), as Go's rules say.
pub(super) fn lex_escape(c: &mut Cursor, quote: char) -> Result<(), String> {
    let mut ch = c.next();
    let (mut n, base, max) = match ch {
        Some('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\') => return Ok(()),
        Some(q) if q == quote => return Ok(()),
        Some('0'..='7') => (3, 8, 255),
        Some('x') => {
            ch = c.next();
            (2, 16, 255)
        }
        Some('u') => {
            ch = c.next();
            (4, 16, 0x10ffff)
        }
        Some('U') => {
            ch = c.next();
            (8, 16, 0x10ffff)
        }
        None => return Err("escape sequence not terminated".into()),
        Some(other) => return Err(format!("unknown escape sequence {}", go_unicode(other))),
    };
    let mut x: u32 = 0;
    while n > 0 {
        let digit = ch.and_then(|d| d.to_digit(16)).filter(|d| *d < base);
        let Some(d) = digit else {
            return Err(match ch {
                None => "escape sequence not terminated".into(),
                Some(bad) => format!("illegal character {} in escape sequence", go_unicode(bad)),
            });
        };
        x = x.saturating_mul(base).saturating_add(d);
        n -= 1;
        if n > 0 {
            ch = c.next();
        }
    }
    if x > max || (0xd800..0xe000).contains(&x) {
        return Err("escape sequence is an invalid Unicode code point".into());
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Go's quoting, for messages that must read exactly like Prometheus'.

/// Whether Go's `strconv` prints `c` as itself (approximates `IsPrint`).
pub(super) fn go_printable(c: char) -> bool {
    !c.is_control() && (c == ' ' || !c.is_whitespace())
}

pub(super) fn go_escape(out: &mut String, c: char, quote: char) {
    match c {
        '\x07' => out.push_str("\\a"),
        '\x08' => out.push_str("\\b"),
        '\x0c' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\x0b' => out.push_str("\\v"),
        '\\' => out.push_str("\\\\"),
        c if c == quote => {
            out.push('\\');
            out.push(c);
        }
        c if go_printable(c) => out.push(c),
        c if (c as u32) < 0x80 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// Go's `%q` of a rune; `None` (end of input) prints as Go prints `eof`.
pub(super) fn go_quote_rune(c: Option<char>) -> String {
    let mut out = String::from("'");
    go_escape(&mut out, c.unwrap_or('\u{fffd}'), '\'');
    out.push('\'');
    out
}

/// Go's `%q` of a string, or `%.Nq...` (the first `N` runes, then `...`)
/// when `limit` is given and the string is longer than that many bytes.
pub(super) fn go_quote_str(s: &str, limit: Option<usize>) -> String {
    let mut out = String::from("\"");
    let truncated = matches!(limit, Some(n) if s.len() > n);
    let take = if truncated {
        limit.unwrap_or(0)
    } else {
        usize::MAX
    };
    for ch in s.chars().take(take) {
        go_escape(&mut out, ch, '"');
    }
    out.push('"');
    if truncated {
        out.push_str("...");
    }
    out
}

/// Go's `%#U`: `U+0071 'q'`.
pub(super) fn go_unicode(c: char) -> String {
    if go_printable(c) {
        format!("U+{:04X} '{c}'", c as u32)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

// ---------------------------------------------------------------------------
// Recogniser: the language of Prometheus 2.42's `generated_parser.y`.
