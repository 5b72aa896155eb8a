//! Where notifications go besides the webhooks stored through the API: the
//! `[[webhooks]]`, `[slack]` and `[smtp]` tables of the TOML config file.
//!
//! # What it owns
//! The shape of those tables (the doc comments below are their reference)
//! and their validation: a name `@webhook-NAME` or `@slack-...` could never
//! match, a URL that can never be sent to, a bad port or address is an
//! error at start-up that names the table and the entry, not a
//! notification retried forever.
//!
//! # What it must never do
//! Touch the network or the metadata store (parsing must be side-effect
//! free, like every layer of the configuration), nor deliver anything: the
//! deliverer (`alerting::deliver`) reads the resolved tables.
//!
//! These tables exist only in the file: they have no environment variable
//! or flag (a list of tables does not fit in one). They apply to every org.
//! The SMTP password too is read from the file only; a file holding one
//! should be readable by Whippet's user alone.
//!
//! ```toml
//! [[webhooks]]                 # used when the org has no webhook NAME of its own
//! name = "filehook"
//! url = "http://alerts.internal/hook"
//! payload = '{"text": "$EVENT_TITLE"}'          # optional
//! custom_headers = '{"Authorization": "Bearer x"}'  # optional, JSON as text
//! encode_as = "json"                               # or "form"
//!
//! [slack]
//! workspaces = ["acme"]        # optional: makes @slack-acme-alerts channel `alerts` of `acme`
//! [slack.channels]
//! ops = "http://chat.internal/hooks/abc"           # @slack-ops
//! acme-alerts = "http://chat.internal/hooks/def"   # @slack-acme-alerts
//!
//! [smtp]
//! host = "mail.internal"       # also the name its TLS certificate must carry
//! port = 587                   # default 25 (465 with starttls = "implicit")
//! from = "whippet@example.com"
//! helo = "whippet.example.com" # optional
//! starttls = "required"        # or "opportunistic" (default), "off", "implicit"
//! username = "whippet"         # optional, with password: AUTH PLAIN or LOGIN
//! password = "s3cret"
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use whippet_monitors::template::{Handle, mentions, split_slack_target};

use crate::alerting::deliver::{DeliveryError, parse_custom_headers, parse_url};

/// The SMTP port when `[smtp]` names none: 25, the port relays (and the
/// local MTA) accept mail on without authentication.
pub const DEFAULT_SMTP_PORT: u16 = 25;

/// The port when `[smtp]` names none and `starttls = "implicit"`: 465,
/// the submission port with TLS from the first byte (RFC 8314 3.3). A
/// `port = 465` without `starttls` means implicit TLS too.
pub const DEFAULT_SMTPS_PORT: u16 = 465;

/// The notification tables of the config file. All optional; empty when
/// the file has none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct NotificationConfig {
    /// `[[webhooks]]`: webhooks for `@webhook-NAME`, for every org. A
    /// webhook of the same name created through Datadog's webhooks
    /// integration API (`POST /api/v1/integration/webhooks/configuration/webhooks`)
    /// wins over the file's for the org that created it.
    #[serde(default)]
    pub webhooks: Vec<WebhookConfig>,
    /// `[slack]`: Slack-compatible incoming webhooks for `@slack-...`.
    /// Without it, Slack handles wait in the outbox ("no integration
    /// configured").
    #[serde(default)]
    pub slack: Option<SlackConfig>,
    /// `[smtp]`: the relay e-mail handles (`@user@example.com`) are sent
    /// through. Without it, e-mail handles wait in the outbox.
    #[serde(default)]
    pub smtp: Option<SmtpConfig>,
}

/// One `[[webhooks]]` entry: the same fields as a webhook of Datadog's
/// webhooks integration API, with the same meaning.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// The name `@webhook-NAME` refers to: letters, digits and `- _ . + /`,
    /// unique in the file.
    pub name: String,
    /// Where to POST: an `http://` or `https://` URL, which may hold
    /// `$VARIABLES` (percent-encoded when rendered). Certificates are
    /// verified against the built-in roots and `SSL_CERT_FILE`.
    pub url: String,
    /// The payload template with Datadog's `$VARIABLES`; absent: Datadog's
    /// default payload.
    #[serde(default)]
    pub payload: Option<String>,
    /// Extra headers: a JSON object as a string
    /// (`'{"Authorization": "Bearer $X"}'`), as the API takes it.
    #[serde(default)]
    pub custom_headers: Option<String>,
    /// `json` (default) or `form`.
    #[serde(default = "default_encoding")]
    pub encode_as: String,
}

fn default_encoding() -> String {
    "json".to_owned()
}

impl WebhookConfig {
    /// The webhook as the deliverer takes it.
    pub fn to_webhook(&self) -> whippet_meta::Webhook {
        whippet_meta::Webhook {
            name: self.name.clone(),
            url: self.url.clone(),
            payload: self.payload.clone(),
            custom_headers: self.custom_headers.clone(),
            encode_as: self.encode_as.clone(),
        }
    }
}

/// `[slack]`: incoming-webhook URLs by channel. A notification to
/// `@slack-TARGET` is POSTed as `{"text": "*TITLE*\nMESSAGE"}` to the URL
/// of `TARGET`; Slack, Mattermost, Rocket.Chat and other Slack-compatible
/// receivers take that body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackConfig {
    /// Workspace names. Datadog spells a channel `@slack-CHANNEL` or
    /// `@slack-WORKSPACE-CHANNEL`, and channel names hold `-` too: a target
    /// that starts with `WORKSPACE-` for a listed workspace (the longest
    /// one when several match) is channel `CHANNEL` of that workspace, and
    /// its URL is the one under the key `WORKSPACE-CHANNEL`; any other
    /// target is a channel of the default workspace. Optional: without
    /// it, keys still match the target as written.
    #[serde(default)]
    pub workspaces: Vec<String>,
    /// `[slack.channels]`: `CHANNEL` or `WORKSPACE-CHANNEL` to the
    /// incoming webhook's `http://` or `https://` URL. Keys are letters,
    /// digits and `- _ . + /`, matched exactly.
    #[serde(default)]
    pub channels: BTreeMap<String, String>,
}

impl SlackConfig {
    /// The (workspace, channel) a target (after `slack-`) names, split with
    /// the configured workspaces.
    pub fn split<'a>(&self, target: &'a str) -> (Option<&'a str>, &'a str) {
        let workspaces: Vec<&str> = self.workspaces.iter().map(String::as_str).collect();
        split_slack_target(target, &workspaces)
    }

    /// The URL for a target (after `slack-`); `None` when no channel of
    /// that name is configured.
    pub fn url_for(&self, target: &str) -> Option<&str> {
        let key = match self.split(target) {
            (Some(workspace), channel) => format!("{workspace}-{channel}"),
            (None, channel) => channel.to_owned(),
        };
        self.channels.get(&key).map(String::as_str)
    }
}

/// `[smtp]`: the relay e-mail notifications go through. Whippet upgrades
/// the connection with STARTTLS when the relay offers it (`starttls`), or
/// speaks TLS from the start (`starttls = "implicit"`, port 465), and
/// logs in when `username` and `password` are set. Without credentials,
/// the relay must accept mail from Whippet without a password (a local
/// Postfix, an internal smarthost).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "SmtpTable")]
pub struct SmtpConfig {
    /// The relay's host name or IP address. Over TLS, its certificate must
    /// be valid for this name (verified against the built-in roots and
    /// `SSL_CERT_FILE`, as for `https://` webhooks).
    pub host: String,
    /// Its port: default 25, or 465 with `starttls = "implicit"`. A relay
    /// for authenticated submission usually listens on 587 (STARTTLS) or
    /// 465 (implicit TLS).
    pub port: u16,
    /// The sender address (`MAIL FROM` and the `From:` header), such as
    /// `whippet@example.com`.
    pub from: String,
    /// The name Whippet gives in `EHLO`; absent: the address literal of
    /// the connection's local end (`[10.0.0.5]`), which every server
    /// accepts.
    pub helo: Option<String>,
    /// `starttls`: when the connection is encrypted, see [`StartTls`].
    /// Default `"opportunistic"`, or `"implicit"` when `port = 465`.
    pub starttls: StartTls,
    /// The user name for SMTP AUTH (RFC 4954), with `password`; absent:
    /// no AUTH. Whippet uses PLAIN when the relay offers it, else LOGIN,
    /// and only over TLS: a relay that does not offer STARTTLS fails the
    /// delivery rather than receive the password in plain text.
    pub username: Option<String>,
    /// The password for `username`; the environment variable
    /// `WHIPPET_SMTP_PASSWORD` ([`SMTP_PASSWORD_ENV`]) wins over the
    /// file's, so the file can be shared without the secret. Never shown
    /// in logs or errors.
    pub password: Option<SmtpPassword>,
}

/// `[smtp] starttls`: whether and how the connection to the relay is
/// encrypted. A certificate that does not verify always fails the
/// delivery (it is never a reason to go on in plain text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartTls {
    /// `"opportunistic"` (the default): STARTTLS when the relay lists it
    /// in its `EHLO` answer, plain text when it does not (unless
    /// credentials are set: those never go in plain text).
    Opportunistic,
    /// `"required"`: STARTTLS, or the delivery fails saying the relay does
    /// not offer it.
    Required,
    /// `"off"`: plain text even when the relay offers STARTTLS (a relay
    /// with a broken TLS setup, on a trusted network).
    Off,
    /// `"implicit"`: TLS from the first byte, no STARTTLS (SMTPS, RFC 8314;
    /// the default port becomes 465).
    Implicit,
}

impl StartTls {
    /// Every mode with its name in the file.
    pub const ALL: [(StartTls, &'static str); 4] = [
        (StartTls::Opportunistic, "opportunistic"),
        (StartTls::Required, "required"),
        (StartTls::Off, "off"),
        (StartTls::Implicit, "implicit"),
    ];

    /// The mode named `name` in the file.
    pub fn parse(name: &str) -> Option<StartTls> {
        StartTls::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(mode, _)| *mode)
    }
}

/// The SMTP password: its `Debug` does not show it, so printing the
/// configuration cannot leak it.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpPassword(pub String);

impl SmtpPassword {
    /// The password itself, for the AUTH exchange only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SmtpPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SmtpPassword(***)")
    }
}

/// `[smtp]` as written: what is absent gets its default in
/// [`SmtpConfig`]'s `TryFrom` (the port's and the mode's defaults depend
/// on each other); everything else is checked by
/// [`NotificationConfig::parse`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SmtpTable {
    host: String,
    #[serde(default)]
    port: Option<u16>,
    from: String,
    #[serde(default)]
    helo: Option<String>,
    #[serde(default)]
    starttls: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

impl TryFrom<SmtpTable> for SmtpConfig {
    type Error = String;

    fn try_from(t: SmtpTable) -> Result<SmtpConfig, String> {
        let starttls = match &t.starttls {
            Some(name) => StartTls::parse(name).ok_or_else(|| {
                let names: Vec<String> = StartTls::ALL
                    .iter()
                    .map(|(_, n)| format!("{n:?}"))
                    .collect();
                format!(
                    "[smtp] `starttls` must be one of {}, not {name:?}",
                    names.join(", ")
                )
            })?,
            None if t.port == Some(DEFAULT_SMTPS_PORT) => StartTls::Implicit,
            None => StartTls::Opportunistic,
        };
        let port = t.port.unwrap_or(match starttls {
            StartTls::Implicit => DEFAULT_SMTPS_PORT,
            _ => DEFAULT_SMTP_PORT,
        });
        Ok(SmtpConfig {
            host: t.host,
            port,
            from: t.from,
            helo: t.helo,
            starttls,
            username: t.username,
            password: t.password.map(SmtpPassword),
        })
    }
}

impl SmtpConfig {
    /// The user name and password when AUTH is configured (validation
    /// makes sure there are both or neither).
    pub fn credentials(&self) -> Option<(&str, &str)> {
        match (&self.username, &self.password) {
            (Some(u), Some(p)) => Some((u, p.expose())),
            _ => None,
        }
    }
}

/// The environment variable that sets `[smtp] password`.
pub const SMTP_PASSWORD_ENV: &str = "WHIPPET_SMTP_PASSWORD";

impl NotificationConfig {
    /// The notification tables of a config file (its other keys ignored),
    /// validated. Errors name the table and the entry.
    pub fn parse(text: &str) -> Result<NotificationConfig, String> {
        let c = NotificationConfig::read(text)?;
        c.validate()?;
        Ok(c)
    }

    /// The tables as written: their shapes and types checked, their
    /// values not yet ([`NotificationConfig::validate`]), so that the
    /// environment can still complete them.
    pub fn read(text: &str) -> Result<NotificationConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Sets `[smtp] password` (from [`SMTP_PASSWORD_ENV`]); an error when
    /// there is no `[smtp]` table to set it in.
    pub fn set_smtp_password(&mut self, password: String) -> Result<(), String> {
        match self.smtp.as_mut() {
            Some(smtp) => {
                smtp.password = Some(SmtpPassword(password));
                Ok(())
            }
            None => Err(format!(
                "{SMTP_PASSWORD_ENV} is set, but the config file has no [smtp] table"
            )),
        }
    }

    /// The webhook NAME of the file, if any.
    pub fn webhook(&self, name: &str) -> Option<&WebhookConfig> {
        self.webhooks.iter().find(|w| w.name == name)
    }

    /// Checks every value; errors name the table and the entry.
    pub fn validate(&self) -> Result<(), String> {
        for (i, w) in self.webhooks.iter().enumerate() {
            let at = format!("[[webhooks]] entry {} ({:?})", i + 1, w.name);
            if !is_handle_name(&w.name, |n| Handle::Webhook(n.to_owned()), "webhook-") {
                return Err(format!(
                    "{at}: `name` must be letters, digits and - _ . + / (not ending in .), \
                     so that @webhook-NAME can name it"
                ));
            }
            if self.webhooks[..i].iter().any(|o| o.name == w.name) {
                return Err(format!("{at}: another webhook has the same name"));
            }
            check_url(&w.url).map_err(|e| format!("{at}: `url` {e}"))?;
            if !matches!(w.encode_as.as_str(), "json" | "form") {
                return Err(format!(
                    "{at}: `encode_as` must be \"json\" or \"form\", not {:?}",
                    w.encode_as
                ));
            }
            if let Some(h) = &w.custom_headers {
                parse_custom_headers(h).map_err(|e| format!("{at}: `custom_headers` {e}"))?;
            }
        }
        if let Some(s) = &self.slack {
            for w in &s.workspaces {
                if w.is_empty() || w.ends_with('-') || !w.chars().all(is_name_char) {
                    return Err(format!(
                        "[slack] workspaces: {w:?} must be letters, digits and - _ . + / \
                         (not ending in -)"
                    ));
                }
            }
            for (key, url) in &s.channels {
                let slack = |t: &str| Handle::Slack {
                    target: t.to_owned(),
                };
                if !is_handle_name(key, slack, "slack-") {
                    return Err(format!(
                        "[slack.channels] {key:?}: a channel must be letters, digits and \
                         - _ . + / (not ending in .), so that @slack-CHANNEL can name it"
                    ));
                }
                check_url(url).map_err(|e| format!("[slack.channels] {key:?}: the URL {e}"))?;
            }
        }
        if let Some(m) = &self.smtp {
            if m.host.is_empty() || m.host.chars().any(|c| c.is_whitespace() || c == '/') {
                return Err(format!(
                    "[smtp] `host` {:?} must be a host name or an IP address",
                    m.host
                ));
            }
            if m.port == 0 {
                return Err("[smtp] `port` must be 1 to 65535".into());
            }
            if !is_address(&m.from) {
                return Err(format!(
                    "[smtp] `from` {:?} must be an address such as whippet@example.com",
                    m.from
                ));
            }
            if let Some(h) = &m.helo
                && (h.is_empty() || !h.bytes().all(|b| b.is_ascii_graphic()))
            {
                return Err(format!(
                    "[smtp] `helo` {h:?} must be a host name (printable ASCII, no spaces)"
                ));
            }
            match (&m.username, &m.password) {
                (Some(_), None) => {
                    return Err(
                        "[smtp] `username` is set without `password`: AUTH needs both".into(),
                    );
                }
                (None, Some(_)) => {
                    return Err(
                        "[smtp] `password` is set without `username`: AUTH needs both".into(),
                    );
                }
                _ => {}
            }
            if let Some(u) = &m.username
                && (u.is_empty() || u.chars().any(char::is_control))
            {
                return Err(format!(
                    "[smtp] `username` {u:?} must not be empty nor hold control characters"
                ));
            }
            if let Some(p) = &m.password
                && (p.0.is_empty() || p.0.contains('\0'))
            {
                // The password itself stays out of the message.
                return Err("[smtp] `password` must not be empty nor hold a NUL character".into());
            }
            if m.credentials().is_some() && m.starttls == StartTls::Off {
                return Err(
                    "[smtp] `username` and `password` need TLS, but `starttls` is \"off\": \
                     Whippet never sends credentials in plain text; set `starttls` to \
                     \"required\" (or \"implicit\" for a relay on port 465)"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

/// A character of a webhook or channel name: what a handle may hold, but
/// `@` (which would make it an address).
fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '+' | '/')
}

/// Whether `@PREFIXname` in a message is read back as exactly the handle
/// `handle(name)`: the mention parser is the judge, so a name it would cut
/// short (a space, a trailing `.`) is refused.
fn is_handle_name(name: &str, handle: impl Fn(&str) -> Handle, prefix: &str) -> bool {
    !name.is_empty()
        && name.chars().all(is_name_char)
        && mentions(&format!("@{prefix}{name}")) == [handle(name)]
}

/// An `http://` or `https://` URL with a host.
fn check_url(url: &str) -> Result<(), String> {
    match parse_url(url) {
        Ok(_) => Ok(()),
        Err(DeliveryError::Config(why)) => Err(why),
        Err(other) => Err(other.to_string()),
    }
}

/// `local@domain`, printable ASCII without spaces or `<>()[],;:"\`.
pub fn is_address(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && a.bytes()
            .all(|b| b.is_ascii_graphic() && !b"<>()[],;:\"\\".contains(&b))
        && !domain.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    const FULL: &str = r#"
data_dir = "/ignored/here"

[[webhooks]]
name = "filehook"
url = "http://127.0.0.1:9/hook/$ALERT_ID"
payload = '{"text": "$EVENT_TITLE"}'
custom_headers = '{"X-Token": "t"}'

[[webhooks]]
name = "formhook"
url = "https://secure.example.com/hook"
encode_as = "form"

[slack]
workspaces = ["acme"]
[slack.channels]
ops = "http://chat.internal/hooks/abc"
acme-alerts = "http://chat.internal/hooks/def"

[smtp]
host = "mail.internal"
from = "whippet@example.com"
"#;

    #[test]
    fn parses_every_table_with_defaults() {
        let c = NotificationConfig::parse(FULL).unwrap();
        assert_eq!(c.webhooks.len(), 2);
        let w = c.webhook("filehook").unwrap().to_webhook();
        assert_eq!(w.encode_as, "json");
        assert_eq!(w.custom_headers.as_deref(), Some(r#"{"X-Token": "t"}"#));
        assert_eq!(c.webhook("formhook").unwrap().encode_as, "form");
        assert!(c.webhook("nope").is_none());
        let smtp = c.smtp.unwrap();
        assert_eq!(smtp.port, DEFAULT_SMTP_PORT);
        assert_eq!(smtp.helo, None);
        assert_eq!(smtp.starttls, StartTls::Opportunistic);
        assert_eq!(smtp.credentials(), None);
        let slack = c.slack.unwrap();
        assert_eq!(slack.url_for("ops"), Some("http://chat.internal/hooks/abc"));
        assert_eq!(slack.split("acme-alerts"), (Some("acme"), "alerts"));
        assert_eq!(
            slack.url_for("acme-alerts"),
            Some("http://chat.internal/hooks/def")
        );
        assert_eq!(slack.url_for("acme-ops"), None);
        assert_eq!(slack.url_for("other"), None);
    }

    #[test]
    fn no_tables_is_empty() {
        assert_eq!(
            NotificationConfig::parse("retention = \"30d\"").unwrap(),
            NotificationConfig::default()
        );
    }

    #[test]
    fn errors_name_the_table_and_the_entry() {
        let cases: &[(&str, &str)] = &[
            (
                "[[webhooks]]\nname = \"a b\"\nurl = \"http://x/\"",
                "[[webhooks]] entry 1 (\"a b\"): `name`",
            ),
            (
                "[[webhooks]]\nname = \"a.\"\nurl = \"http://x/\"",
                "`name` must be",
            ),
            (
                "[[webhooks]]\nname = \"a\"\nurl = \"http://x/\"\n[[webhooks]]\nname = \"a\"\nurl = \"http://y/\"",
                "entry 2 (\"a\"): another webhook has the same name",
            ),
            (
                "[[webhooks]]\nname = \"a\"\nurl = \"ftp://x/\"",
                "`url` URL \"ftp://x/\" must start with http:// or https://",
            ),
            (
                "[[webhooks]]\nname = \"a\"\nurl = \"https://\"",
                "has no host",
            ),
            (
                "[[webhooks]]\nname = \"a\"\nurl = \"http://x/\"\nencode_as = \"xml\"",
                "`encode_as` must be \"json\" or \"form\"",
            ),
            (
                "[[webhooks]]\nname = \"a\"\nurl = \"http://x/\"\ncustom_headers = \"[]\"",
                "`custom_headers` must be a JSON object",
            ),
            (
                "[[webhooks]]\nname = \"a\"\nurl = \"http://x/\"\nheaders = \"{}\"",
                "unknown field `headers`",
            ),
            ("[[webhooks]]\nurl = \"http://x/\"", "missing field `name`"),
            (
                "[slack.channels]\n\"#ops\" = \"http://x/\"",
                "[slack.channels] \"#ops\": a channel must be",
            ),
            (
                "[slack.channels]\nops = \"chat.internal/x\"",
                "[slack.channels] \"ops\": the URL",
            ),
            ("[slack]\nworkspaces = [\"a-\"]", "[slack] workspaces"),
            ("[slack]\nchannel = {}", "unknown field `channel`"),
            (
                "[smtp]\nhost = \"\"\nfrom = \"a@b.c\"",
                "[smtp] `host` \"\" must be",
            ),
            (
                "[smtp]\nhost = \"m\"\nport = 0\nfrom = \"a@b.c\"",
                "[smtp] `port` must be 1 to 65535",
            ),
            (
                "[smtp]\nhost = \"m\"\nport = 70000\nfrom = \"a@b.c\"",
                "port",
            ),
            (
                "[smtp]\nhost = \"m\"\nfrom = \"<a@b.c>\"",
                "[smtp] `from` \"<a@b.c>\" must be an address",
            ),
            (
                "[smtp]\nhost = \"m\"\nfrom = \"a@b.c\"\nhelo = \"my host\"",
                "[smtp] `helo`",
            ),
            ("[smtp]\nhost = \"m\"", "missing field `from`"),
            (
                "[smtp]\nhost = \"m\"\nfrom = \"a@b.c\"\nstarttls = \"yes\"",
                "[smtp] `starttls` must be one of \"opportunistic\", \"required\", \"off\", \
                 \"implicit\", not \"yes\"",
            ),
            (
                "[smtp]\nhost = \"m\"\nfrom = \"a@b.c\"\nstarttls = true",
                "starttls",
            ),
            (
                "[smtp]\nhost = \"m\"\nfrom = \"a@b.c\"\nusername = \"u\"",
                "[smtp] `username` is set without `password`",
            ),
            (
                "[smtp]\nhost = \"m\"\nfrom = \"a@b.c\"\npassword = \"p\"",
                "[smtp] `password` is set without `username`",
            ),
            (
                "[smtp]\nhost = \"m\"\nfrom = \"a@b.c\"\nusername = \"\"\npassword = \"p\"",
                "[smtp] `username` \"\" must not be empty",
            ),
            (
                "[smtp]\nhost = \"m\"\nfrom = \"a@b.c\"\nusername = \"u\"\npassword = \"a\\u0000b\"",
                "[smtp] `password` must not be empty nor hold a NUL",
            ),
            (
                "[smtp]\nhost = \"m\"\nfrom = \"a@b.c\"\nusername = \"u\"\npassword = \"p\"\n\
                 starttls = \"off\"",
                "[smtp] `username` and `password` need TLS, but `starttls` is \"off\"",
            ),
            (
                "[smtp]\nhost = \"m\"\nfrom = \"a@b.c\"\ntls = true",
                "unknown field `tls`",
            ),
            ("smtp = \"mail\"", "smtp"),
        ];
        for (text, want) in cases {
            let e = NotificationConfig::parse(text).unwrap_err();
            assert!(e.contains(want), "{text}\n=> {e}\n(wanted {want:?})");
        }
    }

    #[test]
    fn smtp_tls_modes_and_their_default_ports() {
        let smtp = |extra: &str| {
            NotificationConfig::parse(&format!(
                "[smtp]\nhost = \"mail.example.com\"\nfrom = \"a@b.c\"\n{extra}"
            ))
            .unwrap()
            .smtp
            .unwrap()
        };
        let modes = |s: SmtpConfig| (s.starttls, s.port);
        assert_eq!(modes(smtp("")), (StartTls::Opportunistic, 25));
        assert_eq!(modes(smtp("port = 587")), (StartTls::Opportunistic, 587));
        assert_eq!(
            modes(smtp("starttls = \"required\"\nport = 587")),
            (StartTls::Required, 587)
        );
        assert_eq!(modes(smtp("starttls = \"off\"")), (StartTls::Off, 25));
        assert_eq!(
            modes(smtp("starttls = \"implicit\"")),
            (StartTls::Implicit, DEFAULT_SMTPS_PORT)
        );
        assert_eq!(modes(smtp("port = 465")), (StartTls::Implicit, 465));
        // Said explicitly, the mode stands whatever the port.
        assert_eq!(
            modes(smtp("port = 465\nstarttls = \"opportunistic\"")),
            (StartTls::Opportunistic, 465)
        );
        assert_eq!(
            modes(smtp("port = 2525\nstarttls = \"implicit\"")),
            (StartTls::Implicit, 2525)
        );

        let s = smtp("username = \"whippet\"\npassword = \"s3cret\"");
        assert_eq!(s.credentials(), Some(("whippet", "s3cret")));
        assert_eq!(smtp("").credentials(), None);
        // Printing the configuration does not print the password.
        let shown = format!("{s:?}");
        assert!(
            shown.contains("whippet") && !shown.contains("s3cret"),
            "{shown}"
        );
        // Credentials with STARTTLS required or implicit TLS are fine.
        for mode in ["required", "implicit", "opportunistic"] {
            let s = smtp(&format!(
                "username = \"u\"\npassword = \"p\"\nstarttls = \"{mode}\""
            ));
            assert_eq!(s.credentials(), Some(("u", "p")), "{mode}");
        }
    }

    #[test]
    fn addresses() {
        for good in ["a@b.c", "first.last+tag@mail.example.com", "x@localhost"] {
            assert!(is_address(good), "{good}");
        }
        for bad in [
            "",
            "a",
            "@b.c",
            "a@",
            "a b@c.d",
            "a@b.c\r\nRCPT",
            "<a@b.c>",
            "a@.b",
        ] {
            assert!(!is_address(bad), "{bad}");
        }
    }
}
