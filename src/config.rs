//! Configuration, read once from the environment at start-up.
//! Every variable is documented, with its default, in `.env.example`.

use std::net::SocketAddr;
use std::time::Duration;

/// An SMTP address, which may hold a password: never printed.
#[derive(Clone)]
pub struct SmtpUrl(pub String);

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpUrl(…)")
    }
}

impl SmtpUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A secret setting (a client secret): never printed.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Sign-in through the municipality's identity provider (OpenID Connect):
/// on when `LOTSEN_OIDC_ISSUER` is set.
#[derive(Clone, Debug)]
pub struct OidcSettings {
    /// The provider's issuer URL; its metadata is at `/.well-known/openid-configuration`.
    pub issuer: String,
    pub client_id: String,
    /// None for a public client (PKCE only).
    pub client_secret: Option<Secret>,
    /// The provider's name on the button: "Logga in med {label}".
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    /// The tables' owner, for migrations (`DATABASE_OWNER_URL`); without it
    /// the migrations run over `database_url` (a development database).
    pub database_owner_url: Option<String>,
    pub addr: SocketAddr,
    pub db_max_connections: u32,
    /// How long a request waits for a database connection before the app
    /// answers 503; keeps pages from hanging while PostgreSQL is down.
    pub db_acquire_timeout: Duration,
    pub cookie_secure: bool,
    pub session_idle_timeout: Duration,
    pub session_absolute_timeout: Duration,
    /// Days a draft (text typed but not saved) is kept after its last change.
    pub draft_days: u32,
    pub log_filter: String,
    /// Behind a load balancer: take the client address from the last entry
    /// of `X-Forwarded-For` (only safe when the proxy always sets it).
    pub trust_forwarded_for: bool,
    pub static_dir: String,
    /// How often the background task looks for follow-ups, renewals and
    /// two-year limits that are due.
    pub reminder_interval: Duration,
    /// SMTP server for the daily reminder digest; none means no e-mail.
    pub smtp_url: Option<SmtpUrl>,
    pub mail_from: String,
    /// The address users reach Lotsen at, for links in e-mail.
    pub public_url: String,
    /// The digest goes out in the first reminder round at or after this hour (Stockholm).
    pub digest_hour: u32,
    /// Administrators and managers must have a second factor (TOTP) for
    /// their password; `LOTSEN_REQUIRE_TOTP`, on unless set to false.
    pub require_totp: bool,
    /// Staff outside a person's caseload give a reason before the personakt
    /// opens (`LOTSEN_REASON_OUTSIDE_CASELOAD`, on unless set to false).
    pub reason_outside_caseload: bool,
    /// How long a person's records are kept, and whether some are kept for
    /// research (`LOTSEN_RETENTION_YEARS`, `LOTSEN_KEEP_FOR_RESEARCH`).
    pub retention: crate::domain::retention::Retention,
    /// Sign-in through the municipality's identity provider, when set up.
    pub oidc: Option<OidcSettings>,
    /// How long the server waits for a request head, and how many connections
    /// it keeps open at once, and how long it lets requests finish on shutdown.
    pub server: crate::server::Limits,
}

/// The identity provider's settings: all or none. The issuer is https, or
/// http on this machine only (for tests and trials).
fn oidc_settings(get: &impl Fn(&'static str) -> Option<String>) -> Result<Option<OidcSettings>, ConfigError> {
    let Some(issuer) = get("LOTSEN_OIDC_ISSUER").map(|v| v.trim().to_string()) else {
        if get("LOTSEN_OIDC_CLIENT_ID").is_some() {
            return Err(ConfigError {
                name: "LOTSEN_OIDC_ISSUER",
                problem: "saknas, men LOTSEN_OIDC_CLIENT_ID är satt".into(),
            });
        }
        return Ok(None);
    };
    let local = [
        "http://localhost:",
        "http://localhost/",
        "http://127.0.0.1:",
        "http://127.0.0.1/",
        "http://[::1]:",
    ];
    let local_or_https = issuer.starts_with("https://") || local.iter().any(|p| issuer.starts_with(p));
    if !local_or_https || issuer.contains(char::is_whitespace) {
        return Err(ConfigError {
            name: "LOTSEN_OIDC_ISSUER",
            problem: "måste vara en https-adress (http bara för localhost)".into(),
        });
    }
    let client_id = get("LOTSEN_OIDC_CLIENT_ID").ok_or(ConfigError {
        name: "LOTSEN_OIDC_CLIENT_ID",
        problem: "behövs när LOTSEN_OIDC_ISSUER är satt".into(),
    })?;
    Ok(Some(OidcSettings {
        issuer,
        client_id: client_id.trim().to_string(),
        client_secret: get("LOTSEN_OIDC_CLIENT_SECRET").map(|v| Secret(v.trim().to_string())),
        label: get("LOTSEN_OIDC_LABEL").map_or_else(|| "kommunens inloggning".to_string(), |v| v.trim().to_string()),
    }))
}

/// A bad value: the one line printed before start-up stops.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {problem}")]
pub struct ConfigError {
    pub name: &'static str,
    pub problem: String,
}

pub const DEFAULT_DATABASE_URL: &str = "postgres://lotsen:lotsen@127.0.0.1:5432/lotsen";

impl Config {
    /// Reads the process environment (after `.env`, when present, has been loaded).
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// The same, from any lookup: lets tests check parsing without touching the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| lookup(name).filter(|v| !v.trim().is_empty());
        let parsed = |name: &'static str, default: &str| -> String { get(name).unwrap_or_else(|| default.to_string()) };

        let database_url = parsed("DATABASE_URL", DEFAULT_DATABASE_URL);
        if !(database_url.starts_with("postgres://") || database_url.starts_with("postgresql://")) {
            return Err(ConfigError {
                name: "DATABASE_URL",
                problem: "måste börja med postgres://".into(),
            });
        }
        let database_owner_url = get("DATABASE_OWNER_URL");
        if database_owner_url
            .as_deref()
            .is_some_and(|url| !(url.starts_with("postgres://") || url.starts_with("postgresql://")))
        {
            return Err(ConfigError {
                name: "DATABASE_OWNER_URL",
                problem: "måste börja med postgres://".into(),
            });
        }
        let addr = parse_with(
            "LOTSEN_ADDR",
            &parsed("LOTSEN_ADDR", "127.0.0.1:8080"),
            |v| v.parse::<SocketAddr>().ok(),
            "en adress som 127.0.0.1:8080",
        )?;
        let db_max_connections = parse_with(
            "LOTSEN_DB_MAX_CONNECTIONS",
            &parsed("LOTSEN_DB_MAX_CONNECTIONS", "10"),
            |v| v.parse::<u32>().ok().filter(|n| (1..=500).contains(n)),
            "ett heltal 1–500",
        )?;
        let db_acquire_timeout = Duration::from_secs(parse_with(
            "LOTSEN_DB_TIMEOUT_SECONDS",
            &parsed("LOTSEN_DB_TIMEOUT_SECONDS", "3"),
            |v| v.parse::<u64>().ok().filter(|n| (1..=60).contains(n)),
            "sekunder, 1–60",
        )?);
        // Secure cookies and HSTS follow the public address: on whenever it is
        // https (issue 17); the setting can turn them on behind an http one.
        let public_url = parsed("LOTSEN_PUBLIC_URL", "http://localhost:8080");
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError {
                name: "LOTSEN_PUBLIC_URL",
                problem: "måste börja med http:// eller https://".into(),
            });
        }
        let https = public_url.starts_with("https://");
        let cookie_secure = parse_with(
            "LOTSEN_COOKIE_SECURE",
            &parsed("LOTSEN_COOKIE_SECURE", if https { "true" } else { "false" }),
            parse_bool,
            "true eller false",
        )?;
        if https && !cookie_secure {
            return Err(ConfigError {
                name: "LOTSEN_COOKIE_SECURE",
                problem: "kan inte vara false när LOTSEN_PUBLIC_URL börjar med https://".into(),
            });
        }
        let idle_minutes = parse_with(
            "LOTSEN_SESSION_IDLE_MINUTES",
            &parsed("LOTSEN_SESSION_IDLE_MINUTES", "30"),
            |v| v.parse::<u64>().ok().filter(|n| (1..=24 * 60).contains(n)),
            "minuter, 1–1440",
        )?;
        // Seconds win over minutes when set: lets the browser suite reach the timeout.
        let idle_seconds = match get("LOTSEN_SESSION_IDLE_SECONDS") {
            Some(raw) => parse_with(
                "LOTSEN_SESSION_IDLE_SECONDS",
                &raw,
                |v| v.parse::<u64>().ok().filter(|n| (5..=24 * 3600).contains(n)),
                "sekunder, 5–86400",
            )?,
            None => idle_minutes * 60,
        };
        let draft_days = parse_with(
            "LOTSEN_DRAFT_DAYS",
            &parsed("LOTSEN_DRAFT_DAYS", "14"),
            |v| v.parse::<u32>().ok().filter(|n| (1..=90).contains(n)),
            "dagar, 1–90",
        )?;
        let absolute_hours = parse_with(
            "LOTSEN_SESSION_ABSOLUTE_HOURS",
            &parsed("LOTSEN_SESSION_ABSOLUTE_HOURS", "12"),
            |v| v.parse::<u64>().ok().filter(|n| (1..=72).contains(n)),
            "timmar, 1–72",
        )?;
        let trust_forwarded_for = parse_with(
            "LOTSEN_TRUST_FORWARDED_FOR",
            &parsed("LOTSEN_TRUST_FORWARDED_FOR", "false"),
            parse_bool,
            "true eller false",
        )?;
        let log_filter = parsed("LOTSEN_LOG", "info,sqlx=warn,tower_http=info");
        if tracing_subscriber::EnvFilter::try_new(&log_filter).is_err() {
            return Err(ConfigError {
                name: "LOTSEN_LOG",
                problem: format!("ogiltigt filter {log_filter:?}"),
            });
        }
        let reminder_minutes = parse_with(
            "LOTSEN_REMINDER_INTERVAL_MINUTES",
            &parsed("LOTSEN_REMINDER_INTERVAL_MINUTES", "60"),
            |v| v.parse::<u64>().ok().filter(|n| (1..=24 * 60).contains(n)),
            "minuter, 1–1440",
        )?;
        let smtp_url = match get("LOTSEN_SMTP_URL") {
            None => None,
            Some(url) if lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(&url).is_ok() => Some(SmtpUrl(url)),
            Some(_) => {
                return Err(ConfigError {
                    name: "LOTSEN_SMTP_URL",
                    problem: "ska vara en adress som smtp://relay.example:25 eller smtps://användare:lösenord@smtp.example".into(),
                });
            }
        };
        let mail_from = parsed("LOTSEN_MAIL_FROM", "Lotsen <lotsen@localhost>");
        if mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError {
                name: "LOTSEN_MAIL_FROM",
                problem: "ska vara en avsändare som Lotsen <lotsen@kommun.se>".into(),
            });
        }
        let digest_hour = parse_with(
            "LOTSEN_DIGEST_HOUR",
            &parsed("LOTSEN_DIGEST_HOUR", "7"),
            |v| v.parse::<u32>().ok().filter(|n| *n <= 23),
            "en timme 0–23",
        )?;
        let static_dir = parsed("LOTSEN_STATIC_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/static"));
        let seconds = |name: &'static str, default: &str, max: u64| {
            parse_with(
                name,
                &parsed(name, default),
                |v| v.parse::<u64>().ok().filter(|n| (1..=max).contains(n)),
                &format!("sekunder, 1–{max}"),
            )
            .map(Duration::from_secs)
        };
        let require_totp = parse_with(
            "LOTSEN_REQUIRE_TOTP",
            &parsed("LOTSEN_REQUIRE_TOTP", "true"),
            parse_bool,
            "true eller false",
        )?;
        let reason_outside_caseload = parse_with(
            "LOTSEN_REASON_OUTSIDE_CASELOAD",
            &parsed("LOTSEN_REASON_OUTSIDE_CASELOAD", "true"),
            parse_bool,
            "true eller false",
        )?;
        let retention = crate::domain::retention::Retention {
            years: parse_with(
                "LOTSEN_RETENTION_YEARS",
                &parsed("LOTSEN_RETENTION_YEARS", "5"),
                |v| v.parse::<u32>().ok().filter(|n| (1..=100).contains(n)),
                "år, 1–100",
            )?,
            keep_for_research: parse_with(
                "LOTSEN_KEEP_FOR_RESEARCH",
                &parsed("LOTSEN_KEEP_FOR_RESEARCH", "true"),
                parse_bool,
                "true eller false",
            )?,
        };
        let oidc = oidc_settings(&get)?;
        let server = crate::server::Limits {
            header_read_timeout: seconds("LOTSEN_HEADER_TIMEOUT_SECONDS", "10", 300)?,
            max_connections: parse_with(
                "LOTSEN_MAX_CONNECTIONS",
                &parsed("LOTSEN_MAX_CONNECTIONS", "500"),
                |v| v.parse::<usize>().ok().filter(|n| (1..=100_000).contains(n)),
                "ett heltal 1–100000",
            )?,
            shutdown_grace: seconds("LOTSEN_SHUTDOWN_GRACE_SECONDS", "20", 600)?,
        };

        Ok(Config {
            database_url,
            database_owner_url,
            addr,
            db_max_connections,
            db_acquire_timeout,
            cookie_secure,
            session_idle_timeout: Duration::from_secs(idle_seconds),
            draft_days,
            session_absolute_timeout: Duration::from_secs(absolute_hours * 3600),
            log_filter,
            trust_forwarded_for,
            static_dir,
            reminder_interval: Duration::from_secs(reminder_minutes * 60),
            smtp_url,
            mail_from,
            public_url,
            digest_hour,
            require_totp,
            reason_outside_caseload,
            retention,
            oidc,
            server,
        })
    }

    /// A warning for the start: cookies go without `Secure` although the app
    /// listens beyond this machine (its public address is not https).
    pub fn insecure_warning(&self) -> Option<String> {
        (!self.cookie_secure && !self.addr.ip().is_loopback()).then(|| {
            format!(
                "Lotsen lyssnar på {} men LOTSEN_PUBLIC_URL ({}) är inte https: kakor skickas utan Secure och utan HSTS. \
                 Sätt LOTSEN_PUBLIC_URL till https-adressen (eller LOTSEN_COOKIE_SECURE=true bakom en lastbalanserare med https).",
                self.addr, self.public_url
            )
        })
    }

    /// Settings for tests: everything default except the database.
    pub fn for_tests(database_url: &str) -> Self {
        let url = database_url.to_string();
        Self::from_lookup(move |name| (name == "DATABASE_URL").then(|| url.clone())).expect("default configuration is valid")
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" => Some(true),
        "false" | "0" | "no" => Some(false),
        _ => None,
    }
}

fn parse_with<T>(name: &'static str, raw: &str, parse: impl Fn(&str) -> Option<T>, expected: &str) -> Result<T, ConfigError> {
    parse(raw.trim()).ok_or_else(|| ConfigError {
        name,
        problem: format!("ogiltigt värde {raw:?}, väntade {expected}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_lookup(move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn defaults_are_valid() {
        let config = with(&[]).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:8080");
        assert!(!config.cookie_secure);
        assert_eq!(config.session_idle_timeout, Duration::from_secs(30 * 60));
        assert_eq!(config.draft_days, 14);
    }

    #[test]
    fn the_identity_provider_is_all_or_nothing_and_https_beyond_this_machine() {
        assert!(with(&[]).unwrap().oidc.is_none());
        let on = with(&[
            ("LOTSEN_OIDC_ISSUER", "https://login.kommun.se/realms/personal"),
            ("LOTSEN_OIDC_CLIENT_ID", "lotsen"),
            ("LOTSEN_OIDC_CLIENT_SECRET", "hemligt-värde"),
        ])
        .unwrap();
        let oidc = on.oidc.expect("configured");
        assert_eq!(oidc.client_id, "lotsen");
        assert_eq!(oidc.label, "kommunens inloggning");
        // The secret is never printed.
        assert!(!format!("{oidc:?}").contains("hemligt"));
        let missing_id = with(&[("LOTSEN_OIDC_ISSUER", "https://login.kommun.se")]).unwrap_err();
        assert_eq!(missing_id.name, "LOTSEN_OIDC_CLIENT_ID");
        let missing_issuer = with(&[("LOTSEN_OIDC_CLIENT_ID", "lotsen")]).unwrap_err();
        assert_eq!(missing_issuer.name, "LOTSEN_OIDC_ISSUER");
        let plain = with(&[
            ("LOTSEN_OIDC_ISSUER", "http://login.kommun.se"),
            ("LOTSEN_OIDC_CLIENT_ID", "lotsen"),
        ])
        .unwrap_err();
        assert_eq!(plain.name, "LOTSEN_OIDC_ISSUER");
        let local = with(&[("LOTSEN_OIDC_ISSUER", "http://127.0.0.1:9000"), ("LOTSEN_OIDC_CLIENT_ID", "lotsen")]).unwrap();
        assert!(local.oidc.is_some());
    }

    #[test]
    fn idle_seconds_win_over_minutes() {
        let config = with(&[("LOTSEN_SESSION_IDLE_MINUTES", "20"), ("LOTSEN_SESSION_IDLE_SECONDS", "8")]).unwrap();
        assert_eq!(config.session_idle_timeout, Duration::from_secs(8));
        assert_eq!(
            with(&[("LOTSEN_SESSION_IDLE_SECONDS", "1")]).unwrap_err().name,
            "LOTSEN_SESSION_IDLE_SECONDS"
        );
        assert_eq!(with(&[("LOTSEN_DRAFT_DAYS", "0")]).unwrap_err().name, "LOTSEN_DRAFT_DAYS");
    }

    #[test]
    fn an_https_address_makes_cookies_secure_and_cannot_be_turned_off() {
        let config = with(&[("LOTSEN_PUBLIC_URL", "https://lotsen.kommun.se")]).unwrap();
        assert!(config.cookie_secure);
        let err = with(&[("LOTSEN_PUBLIC_URL", "https://lotsen.kommun.se"), ("LOTSEN_COOKIE_SECURE", "false")]).unwrap_err();
        assert_eq!(err.name, "LOTSEN_COOKIE_SECURE");
        // Behind a balancer that speaks https, the setting still turns them on.
        assert!(with(&[("LOTSEN_COOKIE_SECURE", "true")]).unwrap().cookie_secure);
        // Listening beyond this machine without https: a warning at start.
        assert!(with(&[]).unwrap().insecure_warning().is_none(), "loopback");
        let open = with(&[("LOTSEN_ADDR", "0.0.0.0:8080")]).unwrap();
        assert!(open.insecure_warning().is_some_and(|w| w.contains("LOTSEN_PUBLIC_URL")));
        let safe = with(&[("LOTSEN_ADDR", "0.0.0.0:8080"), ("LOTSEN_PUBLIC_URL", "https://lotsen.kommun.se")]).unwrap();
        assert!(safe.insecure_warning().is_none());
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let err = with(&[("LOTSEN_ADDR", "localhost")]).unwrap_err();
        assert_eq!(err.name, "LOTSEN_ADDR");
        let err = with(&[("LOTSEN_COOKIE_SECURE", "kanske")]).unwrap_err();
        assert!(err.to_string().starts_with("LOTSEN_COOKIE_SECURE:"));
        let err = with(&[("DATABASE_URL", "mysql://x")]).unwrap_err();
        assert_eq!(err.name, "DATABASE_URL");
        let err = with(&[("LOTSEN_SESSION_IDLE_MINUTES", "0")]).unwrap_err();
        assert_eq!(err.name, "LOTSEN_SESSION_IDLE_MINUTES");
        for (name, bad) in [
            ("LOTSEN_SMTP_URL", "ftp://relay"),
            ("LOTSEN_MAIL_FROM", "inte en adress"),
            ("LOTSEN_PUBLIC_URL", "lotsen.example"),
            ("LOTSEN_DIGEST_HOUR", "24"),
            ("LOTSEN_REMINDER_INTERVAL_MINUTES", "0"),
        ] {
            assert_eq!(with(&[(name, bad)]).unwrap_err().name, name);
        }
    }

    #[test]
    fn the_smtp_address_is_never_printed() {
        let config = with(&[("LOTSEN_SMTP_URL", "smtps://user:hemligt@smtp.example:465")]).unwrap();
        assert!(config.smtp_url.is_some());
        assert!(!format!("{config:?}").contains("hemligt"));
    }
}
