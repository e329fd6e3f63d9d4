//! `warden serve`, `warden demo` and `warden totp`: the web service started
//! from the command line. Configuration comes from flags, then `WARDEN_*`
//! environment variables, then a TOML file (`--config`), then defaults
//! (docs/operations.md).

use crate::failure::{Failure, Outcome};
use crate::{load_pack, now};
use rules::HolidayFile;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ServeArgs {
    /// sqlite:PATH or postgres://USER@HOST:PORT/DATABASE
    #[arg(long, env = "WARDEN_DB")]
    db: Option<String>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, env = "WARDEN_LISTEN")]
    listen: Option<SocketAddr>,
    /// A TOML file with any of: db, listen, log_format, secure_cookies,
    /// totp_key, metrics_token, trusted_proxies.
    #[arg(long, env = "WARDEN_CONFIG")]
    config: Option<PathBuf>,
    /// text or json [default: text].
    #[arg(long, env = "WARDEN_LOG_FORMAT")]
    log_format: Option<String>,
    /// Mark session cookies Secure (true unless serving plain HTTP on
    /// loopback) [default: true].
    #[arg(long, env = "WARDEN_SECURE_COOKIES")]
    secure_cookies: Option<bool>,
    /// The keys TOTP secrets are sealed with at rest: KEY[,OLDKEY...], each
    /// 64 hex digits (`warden account new-key`); the first seals.
    #[arg(long, env = "WARDEN_TOTP_KEY", hide_env_values = true)]
    totp_key: Option<String>,
    /// The bearer token /metrics asks for; without one, metrics are not
    /// served.
    #[arg(long, env = "WARDEN_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Addresses of the reverse proxies in front of Warden, whose
    /// X-Forwarded-For names the client (sign-in throttling counts clients).
    #[arg(long, env = "WARDEN_TRUSTED_PROXY", value_delimiter = ',')]
    trusted_proxy: Vec<std::net::IpAddr>,
}

/// The `--config` file.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    db: Option<String>,
    listen: Option<SocketAddr>,
    log_format: Option<String>,
    secure_cookies: Option<bool>,
    totp_key: Option<String>,
    metrics_token: Option<String>,
    #[serde(default)]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// `[scim_groups.COUNCIL]`: SCIM group display names and the roles
    /// their members hold.
    #[serde(default)]
    scim_groups: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// `[mail]`: the mail server and the reminder schedule
    /// (docs/reminders.md).
    pub mail: Option<notify::MailSettings>,
}

impl Config {
    /// The file's settings (none without a file); an unknown key or a bad
    /// value is an error naming the file and where.
    pub fn read(path: Option<&std::path::Path>) -> Result<Config, Failure> {
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = crate::read(path)?;
        toml::from_str(&text).map_err(|e| Failure::said(format!("{}: {e}", path.display())))
    }
}

impl Config {
    /// `[mail]` checked, if the file has one: every mistake, the file named.
    pub fn mail_checked(
        &self,
        path: Option<&std::path::Path>,
    ) -> Result<Option<notify::Mail>, Failure> {
        let Some(settings) = &self.mail else {
            return Ok(None);
        };
        let place = path.map_or_else(|| "--config".to_owned(), |p| p.display().to_string());
        settings
            .check(&place)
            .map(Some)
            .map_err(|errors| Failure::said(errors.join("\n")))
    }
}

/// The TOTP sealing keys from the flag (or `WARDEN_TOTP_KEY`), else the
/// file; an error saying how to make one when there are none.
pub fn totp_keys(flag: Option<&str>, file: &Config) -> Result<web::accounts::TotpKeys, Failure> {
    let Some(text) = flag.or(file.totp_key.as_deref()) else {
        return Err(Failure::said(
            "no key to seal TOTP secrets with: give --totp-key, WARDEN_TOTP_KEY or totp_key \
             in the --config file (`warden account new-key` prints a new one; docs/operations.md)",
        ));
    };
    web::accounts::TotpKeys::parse(text).map_err(|errors| {
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        Failure::said(errors.join("\n"))
    })
}

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Address to listen on (loopback only is wise: the demo's passwords are printed).
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Seed for the generated council.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Headcount of the first demo council, Southend (the web benchmark uses
    /// 100000); the other four have at most 360.
    #[arg(long, default_value_t = 360)]
    people: usize,
    /// Where to print the demo sign-ins as JSON too (for scripts and tests).
    #[arg(long)]
    accounts_json: Option<PathBuf>,
    /// The bearer token /metrics asks for; without one, metrics are not
    /// served.
    #[arg(long, env = "WARDEN_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
}

fn log_format(text: Option<&str>) -> Result<web::LogFormat, Failure> {
    match text.unwrap_or("text") {
        "text" => Ok(web::LogFormat::Text),
        "json" => Ok(web::LogFormat::Json),
        other => Err(Failure::said(format!(
            "log format `{other}`: expected text or json"
        ))),
    }
}

pub fn serve(args: ServeArgs) -> Result<Outcome, Failure> {
    let file = Config::read(args.config.as_deref())?;
    let totp_keys = totp_keys(args.totp_key.as_deref(), &file)?;
    let mail = file.mail_checked(args.config.as_deref())?;
    let Some(db) = args.db.or(file.db) else {
        return Err(Failure::said(
            "say which database to serve: --db, WARDEN_DB, or db in the --config file",
        ));
    };
    let listen = args
        .listen
        .or(file.listen)
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 8080)));
    let format = log_format(args.log_format.as_deref().or(file.log_format.as_deref()))?;
    let secure = args.secure_cookies.or(file.secure_cookies).unwrap_or(true);
    web::init_logging(format);
    let pool = store::Pool::open(&db).map_err(|e| fail(&db, e))?;
    let mut packs = Vec::new();
    {
        let mut log = pool.get().map_err(|e| fail(&db, e))?;
        for council in log.councils().map_err(|e| fail(&db, e))? {
            let name = log.council_pack(&council).map_err(|e| fail(&db, e))?;
            packs.push((council, load_pack(&name)?));
        }
    }
    if packs.is_empty() {
        return Err(Failure::said(format!(
            "{db} holds no council yet: run `warden init` first"
        )));
    }
    let settings = web::Settings {
        secure_cookies: secure,
        totp_keys,
        metrics_token: args.metrics_token.or(file.metrics_token),
        trusted_proxies: if args.trusted_proxy.is_empty() {
            file.trusted_proxies
        } else {
            args.trusted_proxy
        },
        scim_groups: file.scim_groups,
        mail,
    };
    let state = web::state(pool, packs, &HolidayFile::bundled(), settings)
        .map_err(|e| Failure::said(e.to_string()))?;
    web::run(state, listen, |addr| {
        say!("Warden is serving {db} at http://{addr}/")
    })
    .map_err(|e| Failure::said(e.to_string()))?;
    Ok(Outcome::Clean)
}

fn fail(db: &str, e: store::StoreError) -> Failure {
    Failure::store(db, e)
}

pub fn demo(args: DemoArgs) -> Result<Outcome, Failure> {
    web::init_logging(web::LogFormat::Text);
    let dir = tempfile::Builder::new()
        .prefix("warden-demo-")
        .tempdir()
        .map_err(|e| Failure::said(format!("cannot make a folder for the demo store: {e}")))?;
    let path = dir.path().join("warden.db");
    let db = format!("sqlite:{}", path.display());
    let pool = store::Pool::open(&db).map_err(|e| fail(&db, e))?;
    // A key of its own, forgotten with the throwaway store.
    let keys = web::accounts::TotpKeys::parse(&web::accounts::TotpKeys::new_key())
        .map_err(|_| Failure::said("could not make a TOTP key"))?;
    let mut packs = Vec::new();
    let mut demos = Vec::new();
    for (index, council) in web::demo::COUNCILS.iter().enumerate() {
        let pack = load_pack(council)?;
        let mut log = pool.get().map_err(|e| fail(&db, e))?;
        let seed = args.seed + index as u64;
        // --people scales the first council (the web benchmark's); the
        // others keep the default size, so the demo starts quickly.
        let people = if index == 0 {
            args.people
        } else {
            args.people.min(360)
        };
        let demo = web::demo::load(&mut *log, council, &pack, now(), seed, people, &keys)
            .map_err(|e| Failure::said(format!("{db}: {council}: {e}")))?;
        demos.push((council.to_string(), pack.council.clone(), demo));
        packs.push((council.to_string(), pack));
    }
    let state = web::state(
        pool,
        packs,
        &HolidayFile::bundled(),
        web::Settings {
            secure_cookies: false,
            totp_keys: keys,
            metrics_token: args.metrics_token.clone(),
            trusted_proxies: Vec::new(),
            scim_groups: Default::default(),
            mail: None,
        },
    )
    .map_err(|e| Failure::said(e.to_string()))?;
    if let Some(file) = &args.accounts_json {
        let accounts = |demo: &web::demo::Demo| -> Vec<serde_json::Value> {
            demo.accounts
                .iter()
                .map(|a| serde_json::json!({"role": a.role, "person": a.person.as_str(), "name": a.name, "password": web::demo::PASSWORD, "totp_secret": a.totp_secret}))
                .collect()
        };
        let councils: Vec<serde_json::Value> = demos
            .iter()
            .map(|(id, name, demo)| {
                serde_json::json!({
                    "council": id,
                    "name": name,
                    "accounts": accounts(demo),
                    "leaver": demo.leaver.as_ref().map(|p| p.as_str()),
                    "api_token": demo.api_token,
                    "scim_token": demo.scim_token,
                })
            })
            .collect();
        // The first council at the top level too, as scripts read it.
        let mut json = councils.first().cloned().unwrap_or_default();
        if let Some(object) = json.as_object_mut() {
            object.insert(
                "councils".into(),
                serde_json::Value::Array(councils.clone()),
            );
        }
        std::fs::write(
            file,
            serde_json::to_string_pretty(&json).unwrap_or_default(),
        )
        .map_err(|e| Failure::write(file, e))?;
    }
    let result = web::run(state, args.listen, |addr| {
        say!(
            "Warden demo: five councils, each on its own policy pack, with a year of generated events (no real people)."
        );
        say!(
            "Open http://{addr}/ , choose a council and sign in as any of these (password {}):",
            web::demo::PASSWORD
        );
        for (id, name, demo) in &demos {
            say!("");
            say!("{name} ({id})");
            for a in &demo.accounts {
                say!(
                    "  {:<24} {:<14} {:<28} authenticator key {}",
                    a.role,
                    a.person.as_str(),
                    a.name,
                    a.totp_secret
                );
            }
            if let Some(leaver) = &demo.leaver {
                say!("  a councillor to try the leaver checklist on: {leaver}");
            }
        }
        say!("");
        say!("Each account has a second factor. Add its key to an authenticator app, or print the");
        say!("current code with:  cargo run -q -p warden -- totp KEY");
        say!(
            "The store is a throwaway SQLite file in {}; Ctrl-C stops the demo and deletes it.",
            dir.path().display()
        );
    });
    drop(dir);
    result.map_err(|e| Failure::said(e.to_string()))?;
    Ok(Outcome::Clean)
}

/// Prints the current TOTP code for a key.
pub fn totp(secret: &str) -> Result<Outcome, Failure> {
    match web::accounts::totp_code(secret.trim(), now()) {
        Some(code) => {
            say!("{code}");
            Ok(Outcome::Clean)
        }
        None => Err(Failure::said(format!(
            "`{secret}` is not a base32 TOTP key"
        ))),
    }
}
