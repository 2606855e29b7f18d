//! The command line: `lotsen [serve|migrate|create-user|demo-data|remind]`.

use crate::auth::{Role, password};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::ids::UnitId;
use crate::state::AppState;
use crate::users::{self, store::Account};
use std::io::{BufRead, IsTerminal};
use std::sync::Arc;

const USAGE: &str = "Användning:
  lotsen [serve]        starta webbservern (standard)
  lotsen migrate        uppdatera databasens schema
  lotsen demo-data      lägg in demodata (kan köras flera gånger)
  lotsen remind         kör en runda av påminnelserna nu (servern gör det själv varje timme)
  lotsen create-user --email E --name N --role admin|manager|staff [--title T] [--unit ENHET]...
                        skapa en användare; lösenordet läses från terminalen eller standard in";

pub async fn run(args: Vec<String>) -> anyhow::Result<()> {
    let _ = dotenvy::dotenv();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("Felaktig konfiguration: {err}");
            std::process::exit(2);
        }
    };
    let command = args.first().map(String::as_str).unwrap_or("serve");
    match command {
        "serve" => serve(config).await,
        "migrate" => {
            let db = crate::db::pool(&config)?;
            crate::db::migrate_schema(&config, &db).await?;
            println!("Databasen är uppdaterad.");
            Ok(())
        }
        "demo-data" => {
            let db = crate::db::pool(&config)?;
            crate::db::migrate_schema(&config, &db).await?;
            crate::demo::load(&db, SystemClock.now()).await?;
            println!(
                "Demodata finns. Logga in med lösenordet {:?} som någon av:",
                crate::demo::DEMO_PASSWORD
            );
            for user in &crate::demo::USERS {
                println!("  {:<26} {}", user.email, user.role.label());
            }
            Ok(())
        }
        "remind" => {
            let db = crate::db::pool(&config)?;
            crate::db::migrate_schema(&config, &db).await?;
            let started = std::time::Instant::now();
            match crate::reminders::sweep::run(&db, SystemClock.today(), SystemClock.now()).await? {
                Some(report) => println!(
                    "Påminnelser: {} nya, {} besvarade, {} eskalerade ({:.1} ms).",
                    report.raised,
                    report.cleared,
                    report.escalated,
                    started.elapsed().as_secs_f64() * 1000.0
                ),
                None => println!("En annan instans kör påminnelserna just nu."),
            }
            Ok(())
        }
        "create-user" => create_user(config, &args[1..]).await,
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("Okänt kommando {other:?}.\n{USAGE}");
            std::process::exit(2);
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_filter))
        .init();
    let db = crate::db::pool(&config)?;
    let addr = config.addr;
    let state = AppState::new(db, config, Arc::new(SystemClock));
    // Listen at once, even if PostgreSQL is not up yet: pages and /readyz
    // answer 503 until the schema is migrated, then the jobs start.
    state.schema_ready.store(false, std::sync::atomic::Ordering::Release);
    let background = state.clone();
    let jobs = tokio::spawn(async move {
        loop {
            match crate::db::migrate_schema(&background.config, &background.db).await {
                Ok(()) => break,
                Err(err) => {
                    tracing::warn!(error = %err, "could not migrate the database yet; trying again in 2 s");
                    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
                }
            }
        }
        background.schema_ready.store(true, std::sync::atomic::Ordering::Release);
        tracing::info!("databasen är migrerad");
        let _ = crate::jobs::spawn(background).await;
    });
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("Lotsen lyssnar på http://{}", listener.local_addr()?);
    if let Some(warning) = state.config.insecure_warning() {
        tracing::warn!("{warning}");
    }
    let limits = state.config.server;
    crate::server::serve(listener, crate::app(state), limits, shutdown_signal()).await;
    jobs.abort();
    tracing::info!("Lotsen har stängts");
    Ok(())
}

/// Ctrl-C or SIGTERM: stop accepting, let requests in flight finish.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("avslutar: väntar på pågående förfrågningar");
}

async fn create_user(config: Config, args: &[String]) -> anyhow::Result<()> {
    let mut email = None;
    let mut name = None;
    let mut role = None;
    let mut title = String::new();
    let mut units = Vec::new();
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| anyhow::anyhow!("{flag} saknar värde\n{USAGE}"))?.clone();
        match flag.as_str() {
            "--email" => email = Some(crate::web::form::email(&value).map_err(|m| anyhow::anyhow!(m))?),
            "--name" => name = Some(value),
            "--role" => {
                role = Some(Role::parse(&value).ok_or_else(|| anyhow::anyhow!("okänd roll {value:?}: admin, manager eller staff"))?)
            }
            "--title" => title = value,
            "--unit" => units.push(value),
            other => anyhow::bail!("okänd flagga {other}\n{USAGE}"),
        }
    }
    let (Some(email), Some(name), Some(role)) = (email, name, role) else {
        anyhow::bail!("--email, --name och --role krävs\n{USAGE}")
    };

    // Never from argv: it would show in the process list and shell history.
    let password = if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Lösenord (12–128 tecken): ")?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    password::check_policy(&password, &[email.as_str(), name.as_str()]).map_err(|m| anyhow::anyhow!(m))?;

    let db = crate::db::pool(&config)?;
    crate::db::migrate_schema(&config, &db).await?;
    let hash = password::hash_blocking(password).await?;
    let now = SystemClock.now();
    let mut unit_ids = Vec::new();
    for unit in &units {
        let id = sqlx::query_scalar!(r#"SELECT id AS "id: UnitId" FROM units WHERE lower(name) = lower($1)"#, unit)
            .fetch_optional(&db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("enheten {unit:?} finns inte"))?;
        unit_ids.push(id);
    }
    let account = Account {
        email: email.clone(),
        name: name.trim().to_string(),
        job_title: title.trim().to_string(),
        role,
        unit_ids,
        active: true,
        oidc_subject: None,
    };
    if let Err(refused) = users::store::create_as(&db, &account, &hash, None, now, "kommandoraden").await? {
        anyhow::bail!("{}", refused.message);
    }
    println!("Användaren {email} ({}) är skapad.", role.label());
    Ok(())
}
