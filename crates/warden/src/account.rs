//! `warden account`: sign-in accounts for a real deployment, made from the
//! command line (the first ICT administrator's, before anyone can sign in
//! to make the rest). The role is recorded in the council's log as
//! `role_granted`, through the ledger like every event; the account itself
//! is kept beside the log.

use crate::failure::{Failure, Outcome};
use crate::load_pack;
use crate::now;
use crate::serve::{Config, totp_keys};
use crate::stored::{calendar, fail, open};
use domain::event::RoleChange;
use domain::{Event, EventKind, PersonId, Role};
use rules::{Admission, Ledger};
use std::path::PathBuf;
use web::accounts::{Account, TotpKeys, otpauth_url, qr_text, random_hex};
use web::authz::WebRole;

#[derive(clap::Subcommand)]
pub enum AccountCommand {
    /// Give a person of the council's estate a sign-in: a one-time password
    /// and an authenticator key, each printed once (the key as text and as
    /// a QR code), and the role, recorded in the log if they lack it.
    Add {
        #[command(flatten)]
        db: Target,
        /// The person's id in the estate.
        #[arg(long)]
        person: String,
        /// member, or an estate role that confers a service role: ict_admin,
        /// information_governance, dpo, siro, manager, head_of_service,
        /// town_clerk, head_of_democratic_services.
        #[arg(long)]
        role: String,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// List the council's accounts: person, name, service roles, second
    /// factor, live API tokens, disabled or not.
    List {
        #[command(flatten)]
        db: Target,
    },
    /// Disable a person's account: it signs in no more, its sessions end at
    /// their next request, and its API tokens stop working. An ICT
    /// administrator's "Set up or reset sign-in" enables it again.
    Disable {
        #[command(flatten)]
        db: Target,
        #[arg(long)]
        person: String,
    },
    /// Print a new random key for sealing TOTP secrets (64 hex digits).
    NewKey,
    /// Seal every account's TOTP secret again with the first configured
    /// key (after a rotation: the new key first, the old one after it).
    Reseal {
        /// sqlite:PATH or postgres://USER@HOST:PORT/DATABASE
        #[arg(long, env = "WARDEN_DB", default_value = crate::DEFAULT_DB)]
        db: String,
        #[command(flatten)]
        keys: KeyArgs,
    },
}

#[derive(clap::Args)]
pub struct Target {
    /// sqlite:PATH or postgres://USER@HOST:PORT/DATABASE
    #[arg(long, env = "WARDEN_DB", default_value = crate::DEFAULT_DB)]
    db: String,
    #[arg(long)]
    council: String,
}

#[derive(clap::Args)]
pub struct KeyArgs {
    /// The keys TOTP secrets are sealed with: KEY[,OLDKEY...] (as `warden
    /// serve` is given them).
    #[arg(long, env = "WARDEN_TOTP_KEY", hide_env_values = true)]
    totp_key: Option<String>,
    /// A TOML file whose `totp_key` to use (as `warden serve --config`).
    #[arg(long, env = "WARDEN_CONFIG")]
    config: Option<PathBuf>,
}

impl KeyArgs {
    fn keys(&self) -> Result<TotpKeys, Failure> {
        let file = Config::read(self.config.as_deref())?;
        totp_keys(self.totp_key.as_deref(), &file)
    }
}

pub fn run(command: AccountCommand) -> Result<Outcome, Failure> {
    match command {
        AccountCommand::Add {
            db,
            person,
            role,
            keys,
        } => add(&db, &person, &role, &keys.keys()?),
        AccountCommand::List { db } => list(&db),
        AccountCommand::Disable { db, person } => disable(&db, &person),
        AccountCommand::NewKey => {
            say!("{}", TotpKeys::new_key());
            Ok(Outcome::Clean)
        }
        AccountCommand::Reseal { db, keys } => reseal(&db, &keys.keys()?),
    }
}

/// Writes a person's account beside the log.
fn save(
    log: &mut dyn store::Store,
    db: &str,
    council: &str,
    person: &str,
    account: &Account,
) -> Result<(), Failure> {
    let json = serde_json::to_string(account)
        .map_err(|e| Failure::said(format!("the account of {person} does not serialise: {e}")))?;
    log.save_account(council, person, &json)
        .map_err(|e| fail(db, e))
}

/// The role as an estate role to grant (None for plain `member`), or an
/// error naming what is accepted.
fn checked_role(role: &str) -> Result<Option<Role>, Failure> {
    if role == WebRole::Member.name() {
        return Ok(None);
    }
    if WebRole::from_estate(role).is_some() {
        return Ok(Some(Role::from(role)));
    }
    Err(Failure::said(format!(
        "--role `{role}`: expected member or one of {}",
        WebRole::ESTATE_ROLES.join(", ")
    )))
}

fn add(target: &Target, person: &str, role: &str, keys: &TotpKeys) -> Result<Outcome, Failure> {
    let Target { db, council } = target;
    let role = checked_role(role)?;
    let mut log = open(db)?;
    let pack = log.council_pack(council).map_err(|e| fail(db, e))?;
    let pack = load_pack(&pack)?;
    let calendar = calendar(&pack);
    let stored = store::events(log.as_mut(), council).map_err(|e| fail(db, e))?;
    let mut ledger = Ledger::restore(&pack, &calendar, stored);
    let id = PersonId::from(person);
    let Some(who) = ledger.estate().people.get(&id).filter(|p| p.is_present()) else {
        return Err(Failure::said(format!(
            "--person `{person}`: no one of that id is present in {council}'s estate; \
             record their joining first (warden import, or an HR feed)"
        )));
    };
    let name = who.name.clone();
    if log
        .account(council, person)
        .map_err(|e| fail(db, e))?
        .is_some()
    {
        return Err(Failure::said(format!(
            "--person `{person}`: {name} already has an account; an ICT administrator resets it \
             from their page (\"Set up or reset sign-in\")"
        )));
    }
    // The role first, in the log, through the ledger: refused as any event
    // would be, and nothing written then.
    let at = now();
    if let Some(role) = role.filter(|r| !who.roles.contains(r)) {
        let head = log.head(council).map_err(|e| fail(db, e))?;
        let event = Event::new(
            at,
            EventKind::RoleGranted(RoleChange {
                person: id.clone(),
                role: role.clone(),
            }),
        );
        let admitted = ledger
            .admit(vec![event], Admission::command(at))
            .map_err(|reasons| {
                let reasons: Vec<String> = reasons.iter().map(|(_, r)| r.to_string()).collect();
                Failure::said(format!(
                    "the role {role} cannot be granted to {person}: {}",
                    reasons.join("; ")
                ))
            })?;
        let stored: Vec<Event> = admitted
            .seqs
            .iter()
            .filter_map(|seq| ledger.get(*seq).map(|l| l.event.clone()))
            .collect();
        let head = log
            .append(council, head, &stored)
            .map_err(|e| fail(db, e))?;
        say!(
            "{council}: {person} given the role {role} (event {})",
            head.seq
        );
    }
    let password = random_hex::<10>();
    let (account, secret, codes) =
        Account::enrolled(&password, keys).map_err(|e| Failure::said(e.to_string()))?;
    save(log.as_mut(), db, council, person, &account)?;
    print_enrolment(council, person, &name, &password, &secret, &codes);
    Ok(Outcome::Clean)
}

/// What the person is given, once: Warden keeps only the password's hash
/// and the key sealed.
fn print_enrolment(
    council: &str,
    person: &str,
    name: &str,
    password: &str,
    secret: &str,
    codes: &[String],
) {
    let url = otpauth_url(secret, person).unwrap_or_default();
    say!("Account for {name} ({person}) in {council}. Shown once: Warden cannot show these again.");
    say!("");
    say!("  sign in as          {person}");
    say!("  one-time password   {password}");
    say!("  authenticator key   {secret}");
    say!("  set-up address      {url}");
    say!("");
    if let Some(qr) = qr_text(&url) {
        say!("Scan with an authenticator app:");
        say!("{qr}");
    }
    say!("Recovery codes (each signs in once instead of the app):");
    for code in codes {
        say!("  {code}");
    }
}

fn list(target: &Target) -> Result<Outcome, Failure> {
    let Target { db, council } = target;
    let mut log = open(db)?;
    let pack = log.council_pack(council).map_err(|e| fail(db, e))?;
    let pack = load_pack(&pack)?;
    let calendar = calendar(&pack);
    let stored = store::events(log.as_mut(), council).map_err(|e| fail(db, e))?;
    let ledger = Ledger::restore(&pack, &calendar, stored);
    let accounts = log.accounts(council).map_err(|e| fail(db, e))?;
    say!(
        "{:<16} {:<28} {:<36} {:<8} {:<6} status",
        "person",
        "name",
        "roles",
        "2FA",
        "tokens"
    );
    for (person, json) in &accounts {
        let (name, roles, present) =
            match ledger.estate().people.get(&PersonId::from(person.as_str())) {
                Some(p) => (
                    p.name.clone(),
                    WebRole::of(p)
                        .iter()
                        .map(|r| r.name())
                        .collect::<Vec<_>>()
                        .join(","),
                    p.is_present(),
                ),
                None => ("(not in the estate)".to_owned(), String::new(), false),
            };
        let status_of = |account: &Account| match (account.disabled, present) {
            (Some(when), _) => format!("disabled {when}"),
            (None, false) => "left (cannot sign in)".to_owned(),
            (None, true) => "active".to_owned(),
        };
        match serde_json::from_str::<Account>(json) {
            Ok(account) => say!(
                "{person:<16} {name:<28} {roles:<36} {:<8} {:<6} {}",
                if account.has_totp() { "yes" } else { "no" },
                account
                    .tokens
                    .iter()
                    .filter(|t| t.revoked.is_none())
                    .count(),
                status_of(&account)
            ),
            Err(e) => say!("{person:<16} {name:<28} {roles:<36} unreadable: {e}"),
        }
    }
    let plural = if accounts.len() == 1 { "" } else { "s" };
    say!("{} account{plural} in {council}", accounts.len());
    Ok(Outcome::Clean)
}

fn disable(target: &Target, person: &str) -> Result<Outcome, Failure> {
    let Target { db, council } = target;
    let mut log = open(db)?;
    let Some(json) = log.account(council, person).map_err(|e| fail(db, e))? else {
        return Err(Failure::said(format!(
            "--person `{person}`: no account in {council}"
        )));
    };
    let mut account: Account = serde_json::from_str(&json)
        .map_err(|e| Failure::said(format!("the account of {person} does not read: {e}")))?;
    if let Some(when) = account.disabled {
        say!("{council}: the account of {person} was already disabled at {when}");
        return Ok(Outcome::Clean);
    }
    account.disable(now());
    save(log.as_mut(), db, council, person, &account)?;
    say!(
        "{council}: the account of {person} is disabled; its sessions and API tokens no longer work"
    );
    Ok(Outcome::Clean)
}

/// Seals every account's TOTP key with the first key; every account whose
/// key cannot be opened is named and nothing else stops.
fn reseal(db: &str, keys: &TotpKeys) -> Result<Outcome, Failure> {
    let mut log = open(db)?;
    let mut resealed = 0usize;
    let mut failed: Vec<String> = Vec::new();
    for council in log.councils().map_err(|e| fail(db, e))? {
        for (person, json) in log.accounts(&council).map_err(|e| fail(db, e))? {
            let mut account: Account = match serde_json::from_str(&json) {
                Ok(account) => account,
                Err(e) => {
                    failed.push(format!(
                        "{council}/{person}: the account does not read: {e}"
                    ));
                    continue;
                }
            };
            match keys.reseal(&mut account) {
                Ok(false) => {}
                Ok(true) => {
                    save(log.as_mut(), db, &council, &person, &account)?;
                    resealed += 1;
                }
                Err(e) => failed.push(format!("{council}/{person}: {e}")),
            }
        }
    }
    say!(
        "{resealed} TOTP secrets sealed again with key {}; {} could not be",
        keys.current_id(),
        failed.len()
    );
    if !failed.is_empty() {
        return Err(Failure::said(failed.join("\n")));
    }
    Ok(Outcome::Clean)
}
