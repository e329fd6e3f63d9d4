//! The `[mail]` settings: the mail server, who mail comes from (per council),
//! where links point, how hard to try. Checked whole at start-up: every
//! mistake is named, and a mail server whose host cannot be found is one.

use lettre::SmtpTransport;
use lettre::message::Mailbox;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::ToSocketAddrs;
use std::time::Duration;

/// `[mail]` as written in the `--config` file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// `smtps://USER:PASS@HOST:465` (implicit TLS),
    /// `smtp://USER:PASS@HOST:587?tls=required` (STARTTLS), or
    /// `smtp://HOST:PORT` (no TLS: loopback only).
    pub smtp: Option<String>,
    /// Who mail comes from: `Warden <warden@example.gov.uk>`.
    pub from: Option<String>,
    /// Per council, who its mail comes from instead.
    #[serde(default)]
    pub council_from: BTreeMap<String, String>,
    /// Where Warden is served, for the links in mail and calendars.
    pub link: Option<String>,
    /// How many tries before a send is recorded as failed [default: 4].
    pub attempts: Option<u32>,
    /// The wait after the first failed try, doubled after each [default: 2s].
    pub backoff: Option<String>,
    /// `warden serve` runs the reminders this often (`15m`, `1h`); without
    /// it, serve sends none.
    pub remind_every: Option<String>,
}

/// The settings, checked.
#[derive(Clone)]
pub struct Mail {
    pub smtp_url: String,
    transport: SmtpTransport,
    from: Mailbox,
    council_from: BTreeMap<String, Mailbox>,
    pub link: String,
    pub attempts: u32,
    pub backoff: Duration,
    pub remind_every: Option<Duration>,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the URL: it may hold the mail server's password.
        f.debug_struct("Mail")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

impl MailSettings {
    /// The settings checked, or every mistake in them (`where` names the
    /// file or flag they came from).
    pub fn check(&self, place: &str) -> Result<Mail, Vec<String>> {
        let mut errors = Vec::new();
        let mut said =
            |field: &str, message: String| errors.push(format!("{place}: mail.{field}: {message}"));
        let transport = match &self.smtp {
            None => {
                said("smtp", "missing: say which mail server to send through, e.g. \"smtps://user:password@mail.example.gov.uk\"".into());
                None
            }
            Some(url) => match reachable_host(url).and_then(|()| {
                SmtpTransport::from_url(url)
                    .map(|b| b.timeout(Some(Duration::from_secs(20))).build())
                    .map_err(|e| format!("`{}` is not a mail server URL: {e}", redact(url)))
            }) {
                Ok(t) => Some(t),
                Err(message) => {
                    said("smtp", message);
                    None
                }
            },
        };
        let mailbox = |text: &str| text.parse::<Mailbox>();
        let from = match self.from.as_deref().map(mailbox) {
            None => {
                said(
                    "from",
                    "missing: who mail comes from, e.g. \"ICT Security <ict@example.gov.uk>\""
                        .into(),
                );
                None
            }
            Some(Err(e)) => {
                said("from", format!("not an address: {e}"));
                None
            }
            Some(Ok(m)) => Some(m),
        };
        let mut council_from = BTreeMap::new();
        for (council, text) in &self.council_from {
            match mailbox(text) {
                Ok(m) => {
                    council_from.insert(council.clone(), m);
                }
                Err(e) => said(
                    &format!("council_from.{council}"),
                    format!("not an address: {e}"),
                ),
            }
        }
        let link = self
            .link
            .clone()
            .unwrap_or_else(|| "http://127.0.0.1:8080".to_owned());
        if !(link.starts_with("https://") || link.starts_with("http://")) {
            said(
                "link",
                format!("`{link}` is not a web address: expected https://..."),
            );
        }
        let attempts = self.attempts.unwrap_or(4);
        if attempts == 0 {
            said("attempts", "0: expected at least one try".into());
        }
        let mut span = |field: &str, text: Option<&str>, default: Option<Duration>| match text
            .map(|t| (t, t.parse::<jiff::SignedDuration>()))
        {
            None => default,
            Some((_, Ok(d))) if d.is_positive() => Duration::try_from(d).ok(),
            Some((t, _)) => {
                said(
                    field,
                    format!(
                        "`{t}` is not a length of time: expected e.g. \"2s\", \"15m\" or \"1h\""
                    ),
                );
                None
            }
        };
        let backoff = span(
            "backoff",
            self.backoff.as_deref(),
            Some(Duration::from_secs(2)),
        );
        let remind_every = span("remind_every", self.remind_every.as_deref(), None);
        match (transport, from, backoff) {
            (Some(transport), Some(from), Some(backoff)) if errors.is_empty() => Ok(Mail {
                smtp_url: redact(self.smtp.as_deref().unwrap_or_default()),
                transport,
                from,
                council_from,
                link: link.trim_end_matches('/').to_owned(),
                attempts,
                backoff,
                remind_every,
            }),
            _ => Err(errors),
        }
    }
}

impl Mail {
    pub fn transport(&self) -> &SmtpTransport {
        &self.transport
    }

    /// Who a council's mail comes from.
    pub fn from(&self, council: &str) -> &Mailbox {
        self.council_from.get(council).unwrap_or(&self.from)
    }
}

/// The URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// A mail server down for a while is retried when sending; one whose name
/// cannot be found is a mistake in the settings, said at start-up.
fn reachable_host(url: &str) -> Result<(), String> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| {
        format!(
            "`{}` is not a mail server URL: expected smtp:// or smtps://",
            redact(url)
        )
    })?;
    let default_port = match scheme {
        "smtps" => 465,
        "smtp" => 587,
        other => {
            return Err(format!(
                "`{other}://` is not a mail server scheme: expected smtp:// or smtps://"
            ));
        }
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.rsplit_once(':') {
        Some((h, p)) => (
            h,
            p.parse::<u16>()
                .map_err(|_| format!("`{p}` is not a port number"))?,
        ),
        None => (host_port, default_port),
    };
    if host.is_empty() {
        return Err(format!("`{}` names no host", redact(url)));
    }
    match (host, port).to_socket_addrs() {
        Ok(addrs) if addrs.len() > 0 => Ok(()),
        Ok(_) => Err(format!("the mail server `{host}` has no address")),
        Err(e) => Err(format!("the mail server `{host}` cannot be found: {e}")),
    }
}
