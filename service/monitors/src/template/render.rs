//! A parsed template + a [`Context`] → the notification text.
//!
//! Owns what each node renders to: which branch of a section shows, what
//! `is_match`/`is_exact_match`/`is_priority` compare, what helpers
//! produce. Never fails, never panics, and never emits a template byte
//! twice (no loops, no partials), which gives the size bound of
//! [`max_rendered_len`].

use std::borrow::Cow;

use super::context::{Conditional, Context};
use super::format;
use super::parse::{Arg, Node, Parsed, Problem, parse};

/// The shortest tag that can produce text is `{{x}}`; a tag of fewer bytes
/// (`{{}}`) is literal. So a template of `n` bytes holds at most `n / 5`
/// producing tags.
const MIN_TAG_LEN: usize = 5;

/// The most a single tag's text can exceed its variable's text:
/// `{{urlencode ...}}` percent-encodes each byte into three.
const MAX_HELPER_EXPANSION: usize = 3;

/// A template parsed once, to render for many groups.
#[derive(Debug, Clone, PartialEq)]
pub struct Template<'a> {
    source: &'a str,
    parsed: Parsed<'a>,
}

impl<'a> Template<'a> {
    /// Parses `source`. Never fails: see [`problems`](Self::problems).
    pub fn parse(source: &'a str) -> Template<'a> {
        Template {
            source,
            parsed: parse(source),
        }
    }

    /// The malformations found (unclosed or mismatched sections, stray
    /// `{{else}}`, unclosed `{{`), in template order; empty when well
    /// formed. Each is rendered literally, never dropped.
    pub fn problems(&self) -> &[Problem] {
        &self.parsed.problems
    }

    /// The notification text for `ctx`; at most
    /// [`max_rendered_len`]`(source.len(), ctx)` bytes.
    pub fn render(&self, ctx: &Context) -> String {
        let mut out = String::with_capacity(self.source.len());
        render_nodes(&self.parsed.nodes, ctx, &mut out);
        out
    }
}

/// Renders `template` for `ctx`: the message language in the
/// [`template`](super) module doc. Total: malformed parts render
/// literally, unknown variables as empty text. The output is at most
/// [`max_rendered_len`]`(template.len(), ctx)` bytes.
pub fn render(template: &str, ctx: &Context) -> String {
    Template::parse(template).render(ctx)
}

/// The bound on [`render`]'s output: every template byte is emitted at
/// most once, and each of the at most `template_len / 5` tags adds at most
/// three times (URL encoding) the longest variable text of `ctx`
/// ([`Context::max_variable_len`]).
pub fn max_rendered_len(template_len: usize, ctx: &Context) -> usize {
    let per_tag = ctx.max_variable_len().saturating_mul(MAX_HELPER_EXPANSION);
    template_len.saturating_add((template_len / MIN_TAG_LEN).saturating_mul(per_tag))
}

fn render_nodes(nodes: &[Node<'_>], ctx: &Context, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(text) => out.push_str(text),
            Node::Variable(path) => {
                if let Some(text) = ctx.variable(path) {
                    out.push_str(&text);
                }
            }
            Node::Helper { name, args } => helper(name, args, ctx, out),
            Node::Section {
                name,
                args,
                inverted,
                then,
                otherwise,
            } => {
                let holds = condition(name, args, ctx) != *inverted;
                render_nodes(if holds { then } else { otherwise }, ctx, out);
            }
            Node::Raw { name, args, body } => {
                if *name == "raw" || condition(name, args, ctx) {
                    out.push_str(body);
                }
            }
        }
    }
}

/// Whether section `name` with `args` holds. Unknown names are false, as
/// an undefined value is in Handlebars: `{{#x}}` hides, `{{^x}}` shows.
fn condition(name: &str, args: &[Arg<'_>], ctx: &Context) -> bool {
    if let Some(conditional) = Conditional::parse(name) {
        return ctx.transition.is(conditional);
    }
    match name {
        "is_match" => matches_any(args, ctx, |subject, needle| {
            // An empty needle tests that the subject is not empty
            // (Datadog's documented idiom).
            if needle.is_empty() {
                !subject.is_empty()
            } else {
                subject.contains(needle)
            }
        }),
        "is_exact_match" => matches_any(args, ctx, exact_match),
        "is_priority" => {
            let Some(priority) = ctx.priority else {
                return false;
            };
            args.first().is_some_and(|a| {
                let wanted = a.text.trim();
                let wanted = wanted.strip_prefix(['P', 'p']).unwrap_or(wanted);
                wanted.parse::<u8>() == Ok(priority)
            })
        }
        _ => false,
    }
}

/// `{{#is_match "subject" "a" "b"}}`: the subject variable against each
/// comparison string; true when any matches. A missing subject renders
/// empty and is compared as such; no comparison string is false.
fn matches_any(args: &[Arg<'_>], ctx: &Context, test: impl Fn(&str, &str) -> bool) -> bool {
    let Some((subject, needles)) = args.split_first() else {
        return false;
    };
    let subject = ctx
        .match_subject(subject.text.trim())
        .unwrap_or(Cow::Borrowed(""));
    needles.iter().any(|needle| test(&subject, needle.text))
}

/// Equal strings, or equal numbers when both parse as numbers ("If a
/// number is used, the numeric value is considered": `5` matches `5.0`).
fn exact_match(subject: &str, wanted: &str) -> bool {
    if subject == wanted {
        return true;
    }
    match (subject.trim().parse::<f64>(), wanted.trim().parse::<f64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// The helpers: `urlencode "var"` and `local_time 'var' 'zone'`. Every
/// other helper (`eval`, ...) is unsupported and renders empty, like an
/// unknown variable.
fn helper(name: &str, args: &[Arg<'_>], ctx: &Context, out: &mut String) {
    match name {
        "urlencode" => {
            if let Some(text) = args.first().and_then(|a| ctx.variable(a.text.trim())) {
                out.push_str(&format::urlencode(&text));
            }
        }
        "local_time" => {
            if let Some(ms) = args.first().and_then(|a| ctx.date_variable(a.text.trim())) {
                out.push_str(&format::local_time_utc(ms));
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparator::Comparator;
    use crate::template::context::{Status, Thresholds, Transition};
    use Status::*;
    use proptest::prelude::*;

    fn ctx(transition: Transition) -> Context {
        let mut ctx = Context {
            value: Some(97.5),
            comparator: Some(Comparator::Gt),
            thresholds: Thresholds {
                critical: Some(90.0),
                warning: Some(80.0),
                critical_recovery: Some(85.0),
                warning_recovery: Some(75.0),
                ok: None,
            },
            priority: Some(2),
            first_triggered_at_ms: Some(1_728_578_340_000),
            last_triggered_at_ms: Some(1_728_578_400_000),
            now_ms: 1_728_578_460_000,
            ..Context::new(transition)
        };
        ctx.add_group("host:web-1,role:db_cassandra,service:ad server");
        ctx
    }

    fn alert() -> Context {
        ctx(Transition::new(Ok, Alert))
    }

    /// Each conditional, `#` and `^`, in one transition where it holds and
    /// one where it does not.
    #[test]
    fn every_conditional_section_both_ways() {
        let cases = [
            (
                "is_alert",
                Transition::new(Ok, Alert),
                Transition::new(Ok, Warn),
            ),
            (
                "is_warning",
                Transition::new(Ok, Warn),
                Transition::new(Ok, Alert),
            ),
            (
                "is_recovery",
                Transition::new(Alert, Ok),
                Transition::new(Ok, Alert),
            ),
            (
                "is_alert_recovery",
                Transition::new(Alert, Ok),
                Transition::new(Warn, Ok),
            ),
            (
                "is_warning_recovery",
                Transition::new(Warn, Ok),
                Transition::new(Alert, Ok),
            ),
            (
                "is_alert_to_warning",
                Transition::new(Alert, Warn),
                Transition::new(Ok, Warn),
            ),
            (
                "is_no_data",
                Transition::new(Ok, NoData),
                Transition::new(NoData, Ok),
            ),
            (
                "is_no_data_recovery",
                Transition::new(NoData, Ok),
                Transition::new(Alert, Ok),
            ),
            (
                "is_unknown",
                Transition::new(Ok, Unknown),
                Transition::new(Unknown, Ok),
            ),
            (
                "is_renotify",
                Transition::renotify(Alert),
                Transition::new(Ok, Alert),
            ),
        ];
        for (name, yes, no) in cases {
            let t = format!("[{{{{#{name}}}}}in{{{{/{name}}}}}|{{{{^{name}}}}}out{{{{/{name}}}}}]");
            assert_eq!(render(&t, &ctx(yes)), "[in|]", "{name} {yes:?}");
            assert_eq!(render(&t, &ctx(no)), "[|out]", "{name} {no:?}");
        }
    }

    #[test]
    fn else_branches() {
        let t = "{{#is_alert}}A{{else}}not A{{/is_alert}} {{^is_alert}}B{{else}}not B{{/is_alert}}";
        assert_eq!(render(t, &alert()), "A not B");
        assert_eq!(render(t, &ctx(Transition::new(Alert, Ok))), "not A B");
    }

    #[test]
    fn nested_sections() {
        let t = "{{#is_renotify}}R{{#is_match \"host.name\" \"web\"}}-web{{/is_match}}{{/is_renotify}}\
                 {{^is_renotify}}first{{#is_alert}}!{{/is_alert}}{{/is_renotify}}";
        assert_eq!(render(t, &ctx(Transition::renotify(Alert))), "R-web");
        assert_eq!(render(t, &alert()), "first!");
        assert_eq!(render(t, &ctx(Transition::new(Ok, Warn))), "first");
    }

    #[test]
    fn template_variables() {
        let t = "{{value}} {{comparator}} {{threshold}} (warn {{warn_threshold}}, \
                 recover {{alert_recovery_threshold}}/{{warn_recovery_threshold}}, ok '{{ok_threshold}}') \
                 since {{first_triggered_at}} = {{first_triggered_at_epoch}}, last {{last_triggered_at}}, \
                 {{triggered_duration_sec}}s";
        assert_eq!(
            render(t, &alert()),
            "97.5 > 90 (warn 80, recover 85/75, ok '') since 2024-10-10 16:39:00 UTC = 1728578340000, \
             last 2024-10-10 16:40:00 UTC, 120s"
        );
    }

    #[test]
    fn tag_variables() {
        let c = alert();
        assert_eq!(
            render(
                "{{host.name}}|{{ role.name }}|{{{service.name}}}|{{[host].name}}",
                &c
            ),
            "web-1|db_cassandra|ad server|web-1"
        );
        assert_eq!(render("@slack-{{service.name}}", &c), "@slack-ad server");
        assert_eq!(render("{{urlencode \"service.name\"}}", &c), "ad%20server");
        assert_eq!(
            render("{{local_time 'last_triggered_at' 'Asia/Tokyo'}}", &c),
            "2024-10-10 16:40:00+00:00"
        );
    }

    #[test]
    fn unknown_variables_render_empty() {
        let c = alert();
        assert_eq!(
            render(
                "[{{region.name}}][{{log.message}}][{{nope}}][{{eval \"value*2\"}}]",
                &c
            ),
            "[][][][]"
        );
        // Unknown sections are false.
        assert_eq!(
            render("{{#is_bogus}}a{{/is_bogus}}{{^is_bogus}}b{{/is_bogus}}", &c),
            "b"
        );
    }

    #[test]
    fn is_match_and_exact_match() {
        let c = alert();
        let r = |t: &str| render(t, &c);
        assert_eq!(r(r#"{{#is_match "role.name" "db"}}db{{/is_match}}"#), "db");
        assert_eq!(
            r(r#"{{#is_match "role.name" "x" "cass"}}any{{/is_match}}"#),
            "any"
        );
        assert_eq!(
            r(r#"{{#is_match "role.name" "pg"}}db{{else}}other{{/is_match}}"#),
            "other"
        );
        assert_eq!(
            r(r#"{{^is_match "role.name" "pg"}}not pg{{/is_match}}"#),
            "not pg"
        );
        assert_eq!(
            r(r#"{{#is_match "role" "db"}}bare key{{/is_match}}"#),
            "bare key"
        );
        assert_eq!(r(r#"{{#is_match "role.name" ""}}set{{/is_match}}"#), "set");
        assert_eq!(
            r(r#"{{#is_match "region.name" ""}}set{{else}}unset{{/is_match}}"#),
            "unset"
        );
        assert_eq!(r(r#"{{#is_match "role.name"}}no needle{{/is_match}}"#), "");
        assert_eq!(
            r(r#"{{#is_exact_match "host.name" "web"}}x{{else}}y{{/is_exact_match}}"#),
            "y"
        );
        assert_eq!(
            r(r#"{{#is_exact_match "host.name" "db" "web-1"}}x{{/is_exact_match}}"#),
            "x"
        );
        assert_eq!(
            r(r#"{{^is_exact_match "host.name" "web-1"}}x{{/is_exact_match}}"#),
            ""
        );
        assert_eq!(
            r(r#"{{#is_exact_match "value" "97.50"}}numeric{{/is_exact_match}}"#),
            "numeric"
        );
        assert_eq!(
            r(r#"{{#is_match "value" "97"}}substring of the text{{/is_match}}"#),
            "substring of the text"
        );
        assert_eq!(
            r("{{#is_priority 'P2'}}p2{{/is_priority}}{{#is_priority 'P1'}}p1{{/is_priority}}"),
            "p2"
        );
    }

    #[test]
    fn malformed_templates_render_literally() {
        let c = alert();
        assert_eq!(render("a {{#is_warning}}b", &c), "a {{#is_warning}}b");
        assert_eq!(render("a {{/is_alert}} b", &c), "a {{/is_alert}} b");
        assert_eq!(
            render("{{#is_alert}}a{{#is_warning}}b{{/is_alert}}", &c),
            "a{{#is_warning}}b"
        );
        assert_eq!(render("x {{ value", &c), "x {{ value");
        assert_eq!(render("{{else}}", &c), "{{else}}");
        assert_eq!(
            render("{{#is_alert}}a{{else}}b{{else}}c{{/is_alert}}", &c),
            "a"
        );
        assert_eq!(render("}} {{}} {", &c), "}} {{}} {");
        let t = Template::parse("{{#is_alert}}x");
        assert_eq!(t.problems().len(), 1);
        assert_eq!(
            t.problems()[0].to_string(),
            "section 'is_alert' at byte 0 is never closed"
        );
    }

    #[test]
    fn comments_and_raw() {
        let c = alert();
        assert_eq!(render("a{{!-- note --}}b", &c), "ab");
        assert_eq!(render("{{{{raw}}}}{{ x }}{{{{/raw}}}}", &c), "{{ x }}");
        let t = r#"{{{{is_match "host.name" "web"}}}}{{ .matched }}{{{{/is_match}}}}"#;
        assert_eq!(render(t, &c), "{{ .matched }}");
        let t = r#"{{{{is_match "host.name" "db"}}}}{{ .matched }}{{{{/is_match}}}}"#;
        assert_eq!(render(t, &c), "");
    }

    #[test]
    fn bound_holds_for_heavy_expansion() {
        let mut c = alert();
        c.add_tag(&format!("big:{}", "é".repeat(1000)));
        let t = "{{urlencode \"big.name\"}}".repeat(10);
        let out = render(&t, &c);
        assert!(out.len() <= max_rendered_len(t.len(), &c));
        assert!(out.len() > 50_000);
    }

    /// Template-ish text: braces, section tags, handles and plain words.
    fn template_strategy() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("{{".to_owned()),
            Just("}}".to_owned()),
            Just("{{{{raw}}}}".to_owned()),
            Just("{{{{/raw}}}}".to_owned()),
            Just("{{#is_alert}}".to_owned()),
            Just("{{^is_alert}}".to_owned()),
            Just("{{/is_alert}}".to_owned()),
            Just("{{#is_match \"host.name\" \"web\"}}".to_owned()),
            Just("{{/is_match}}".to_owned()),
            Just("{{else}}".to_owned()),
            Just("{{host.name}}".to_owned()),
            Just("{{urlencode \"big.name\"}}".to_owned()),
            Just("{{!-- c --}}".to_owned()),
            Just("@webhook-x ".to_owned()),
            "[a-z \"'#^/!.{}]{0,6}",
            any::<String>(),
        ];
        prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
    }

    proptest! {
        #[test]
        fn render_never_panics_and_is_bounded(t in template_strategy(), renotify in any::<bool>()) {
            let mut c = if renotify { ctx(Transition::renotify(Alert)) } else { alert() };
            c.add_tag("big:%%%%%%%%%%%%%%%%%%%%");
            let out = render(&t, &c);
            prop_assert!(out.len() <= max_rendered_len(t.len(), &c));
        }

        #[test]
        fn arbitrary_text_never_panics(t in any::<String>()) {
            let c = alert();
            prop_assert!(render(&t, &c).len() <= max_rendered_len(t.len(), &c));
        }

        #[test]
        fn text_without_braces_is_unchanged(t in "[^{]*") {
            prop_assert_eq!(render(&t, &alert()), t);
        }
    }
}
