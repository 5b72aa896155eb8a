//! The `@`-handles a notification message mentions: who gets notified.
//!
//! Owns the handle syntax (`@webhook-NAME`, `@slack-...`, `@user@host`,
//! anything else) and its classification. Never resolves a handle to a
//! destination (that needs the org's integration settings) and never
//! delivers anything.
//!
//! The server should route the handles of the **rendered** message
//! ([`rendered_mentions`]): handles inside a section count only when the
//! section renders (Datadog: "any text or notification handle placed
//! inside of configured conditional variables is only invoked if the
//! monitor state transition matches its condition"), and dynamic handles
//! such as `@slack-{{service.name}}` exist only once rendered.

use std::collections::HashSet;

use super::context::Context;
use super::render::render;

/// A notification target named in a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Handle {
    /// `@webhook-NAME`: the webhook integration entry called `NAME`.
    Webhook(String),
    /// `@slack-TARGET`: Datadog spells a channel `@slack-CHANNEL` or
    /// `@slack-WORKSPACE-CHANNEL`. Channel names contain `-` too, so only
    /// the configured workspace names can split `TARGET`: see
    /// [`split_slack_target`].
    Slack {
        /// Everything after `@slack-`.
        target: String,
    },
    /// `@user@example.com`: an email address (without the leading `@`).
    Email(String),
    /// Any other handle (`@pagerduty-Service`, `@opsgenie-team`,
    /// `@oncall-team`, `@team-x`, ...), without the leading `@`.
    Other(String),
}

impl Handle {
    /// Classifies a handle's text (after the `@`); `None` if it is not one.
    /// A handle starts with a letter or digit (`@.` and `@@` are not
    /// handles).
    pub fn parse(text: &str) -> Option<Handle> {
        if !text.chars().next().is_some_and(char::is_alphanumeric) {
            return None;
        }
        if let Some(name) = text.strip_prefix("webhook-").filter(|n| !n.is_empty()) {
            return Some(Handle::Webhook(name.to_owned()));
        }
        if let Some(target) = text.strip_prefix("slack-").filter(|t| !t.is_empty()) {
            return Some(Handle::Slack {
                target: target.to_owned(),
            });
        }
        if let Some((local, domain)) = text.split_once('@')
            && !local.is_empty()
            && !domain.contains('@')
            && domain.split('.').count() >= 2
            && domain.split('.').all(|label| !label.is_empty())
        {
            return Some(Handle::Email(text.to_owned()));
        }
        Some(Handle::Other(text.to_owned()))
    }

    /// The handle as written in a message, with its `@`.
    pub fn to_mention(&self) -> String {
        match self {
            Handle::Webhook(name) => format!("@webhook-{name}"),
            Handle::Slack { target } => format!("@slack-{target}"),
            Handle::Email(address) => format!("@{address}"),
            Handle::Other(text) => format!("@{text}"),
        }
    }
}

/// Splits a Slack target into (workspace, channel) given the configured
/// workspace (account) names: `ops-alerts` with workspace `ops` is
/// channel `alerts` of `ops`; with no matching workspace the whole target
/// is a channel of the default workspace. The longest matching workspace
/// wins.
pub fn split_slack_target<'a>(target: &'a str, workspaces: &[&str]) -> (Option<&'a str>, &'a str) {
    let best = workspaces
        .iter()
        .filter(|w| !w.is_empty())
        .filter_map(|w| {
            let channel = target.strip_prefix(*w)?.strip_prefix('-')?;
            (!channel.is_empty()).then_some((w.len(), channel))
        })
        .max_by_key(|(len, _)| *len);
    match best {
        Some((len, channel)) => (Some(&target[..len]), channel),
        None => (None, target),
    }
}

/// A character that can be part of a handle: letters, digits and
/// `- _ . @ + /` (enough for channel, webhook and service names and email
/// addresses). Anything else (space, `,`, `)`, `*`, `{`, ...) ends it.
fn is_handle_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@' | '+' | '/')
}

/// The handles `message` mentions, deduplicated, in order of first
/// appearance. A handle starts at an `@` that begins the text or follows a
/// character that cannot be part of a handle (so `a@b.com` in prose is not
/// one), runs over handle characters (letters, digits, `- _ . @ + /`),
/// drops a trailing `.` (end of sentence), and must start with a letter
/// or digit. At most `message.len() / 2` handles
/// come back, their text no longer than the message.
///
/// This reads the text as given: on a template it also sees handles inside
/// sections that would not render. Route the handles of the rendered
/// message instead ([`rendered_mentions`]).
pub fn mentions(message: &str) -> Vec<Handle> {
    let mut out: Vec<Handle> = Vec::new();
    // Linear deduplication: a hostile message can hold `len / 2` handles.
    let mut seen: HashSet<Handle> = HashSet::new();
    let mut prev: Option<char> = None;
    let mut chars = message.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let starts = c == '@' && prev.is_none_or(|p| !is_handle_char(p));
        prev = Some(c);
        if !starts {
            continue;
        }
        let from = at + 1;
        let mut end = from;
        while let Some(&(i, c)) = chars.peek() {
            if !is_handle_char(c) {
                break;
            }
            end = i + c.len_utf8();
            prev = Some(c);
            chars.next();
        }
        let text = message[from..end].trim_end_matches('.');
        if let Some(handle) = Handle::parse(text)
            && seen.insert(handle.clone())
        {
            out.push(handle);
        }
    }
    out
}

/// The handles of `template` rendered for `ctx`: the ones to notify.
pub fn rendered_mentions(template: &str, ctx: &Context) -> Vec<Handle> {
    mentions(&render(template, ctx))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::context::{Status, Transition};
    use proptest::prelude::*;

    fn webhook(n: &str) -> Handle {
        Handle::Webhook(n.into())
    }

    #[test]
    fn each_kind() {
        let m = mentions(
            "CPU high @webhook-ops-hook @slack-prod-alerts, @dev-team@company.com. @pagerduty-Web_Service",
        );
        assert_eq!(
            m,
            vec![
                webhook("ops-hook"),
                Handle::Slack {
                    target: "prod-alerts".into()
                },
                Handle::Email("dev-team@company.com".into()),
                Handle::Other("pagerduty-Web_Service".into()),
            ]
        );
        assert_eq!(m[2].to_mention(), "@dev-team@company.com");
    }

    #[test]
    fn boundaries() {
        assert_eq!(mentions("mail me at bob@example.com"), vec![]);
        assert_eq!(
            mentions("(@ops) **@webhook-a**"),
            vec![Handle::Other("ops".into()), webhook("a")]
        );
        assert_eq!(mentions("@ @. @@ end@"), vec![]);
        assert_eq!(
            mentions("@webhook- @slack-"),
            vec![
                Handle::Other("webhook-".into()),
                Handle::Other("slack-".into())
            ]
        );
        assert_eq!(mentions("@a@b"), vec![Handle::Other("a@b".into())]);
        assert_eq!(
            mentions("@webhook-a @webhook-a\n@webhook-b"),
            vec![webhook("a"), webhook("b")]
        );
        assert_eq!(
            mentions("@équipe-é"),
            vec![Handle::Other("équipe-é".into())]
        );
    }

    #[test]
    fn many_handles_stay_fast() {
        let message: String = (0..100_000).map(|i| format!("@h{i} @h{i} ")).collect();
        assert_eq!(mentions(&message).len(), 100_000);
    }

    #[test]
    fn slack_targets() {
        assert_eq!(
            split_slack_target("ops-alerts", &["ops", "ops-eu"]),
            (Some("ops"), "alerts")
        );
        assert_eq!(
            split_slack_target("ops-eu-alerts", &["ops", "ops-eu"]),
            (Some("ops-eu"), "alerts")
        );
        assert_eq!(split_slack_target("alerts", &["ops"]), (None, "alerts"));
        assert_eq!(split_slack_target("ops-", &["ops"]), (None, "ops-"));
    }

    #[test]
    fn only_rendered_sections_count() {
        let t = "{{#is_alert}}@webhook-pager{{/is_alert}}{{#is_recovery}}@slack-ok{{/is_recovery}} \
                 @team@example.com {{^is_alert}}@webhook-quiet{{/is_alert}}";
        let alert = Context::new(Transition::new(Status::Ok, Status::Alert));
        let recovery = Context::new(Transition::new(Status::Alert, Status::Ok));
        assert_eq!(
            rendered_mentions(t, &alert),
            vec![webhook("pager"), Handle::Email("team@example.com".into())]
        );
        assert_eq!(
            rendered_mentions(t, &recovery),
            vec![
                Handle::Slack {
                    target: "ok".into()
                },
                Handle::Email("team@example.com".into()),
                webhook("quiet")
            ]
        );
        // The raw template sees them all.
        assert_eq!(mentions(t).len(), 4);
    }

    #[test]
    fn dynamic_handles() {
        let mut ctx = Context::new(Transition::new(Status::Ok, Status::Alert));
        ctx.add_tag("service:ad-server");
        assert_eq!(
            rendered_mentions("@slack-{{service.name}} issue", &ctx),
            vec![Handle::Slack {
                target: "ad-server".into()
            }]
        );
    }

    proptest! {
        #[test]
        fn never_panics_and_is_bounded(m in any::<String>()) {
            let found = mentions(&m);
            prop_assert!(found.len() <= m.len() / 2);
            let text: usize = found.iter().map(|h| h.to_mention().len()).sum();
            prop_assert!(text <= m.len());
        }

        #[test]
        fn handle_like_text(m in "[@a-z\\-. ]{0,40}") {
            for h in mentions(&m) {
                prop_assert!(m.contains(&h.to_mention()));
            }
        }
    }
}
