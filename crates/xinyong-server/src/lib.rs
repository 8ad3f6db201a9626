//! The xinyong server: the HTTP API of CONTRACT.md §4 on axum, over any [`xinyong_store::Store`].
//!
//! Layers, outermost first: request id (`x-request-id`, generated when absent) → tracing span →
//! metrics → timeout → routes. Handlers live in `api/<resource>/<verb>.rs`; personal data is masked
//! only in [`present`]; every subject access is logged through [`audit::Auditor`] before it answers.

pub mod api;
pub mod audit;
pub mod auth;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod policy;
pub mod present;
pub mod push;
pub mod reports;
pub mod settings;
pub mod sheet;
pub mod state;
pub mod web;

use std::sync::Arc;

use tokio::net::TcpListener;
use xinyong_store::Store;
use xinyong_store::keyring::Keyring;

pub use settings::Settings;
pub use state::{AppState, Clock, FixedClock, SystemClock};

/// Builds the shared state of a server over `store`.
pub fn app_state(
    store: Arc<dyn Store>,
    settings: Settings,
    clock: Arc<dyn Clock>,
    keyring: Option<Arc<Keyring>>,
) -> anyhow::Result<AppState> {
    let metrics = Arc::new(metrics::Metrics::new()?);
    let auditor = Arc::new(audit::Auditor::start(Arc::clone(&store), settings.audit_max_batch, Arc::clone(&metrics)));
    let limits = Arc::new(limits::RateLimits::new(settings.rate_per_second, settings.rate_burst));
    let login_throttle = Arc::new(limits::LoginThrottle::new(
        settings.login_address_max_failures,
        settings.login_address_window_minutes,
    ));
    let accounts = Arc::default();
    let policy = Arc::new(policy::Policy::shipped()?);
    let reports = Arc::new(reports::Reporting::new()?);
    Ok(AppState {
        store,
        auditor,
        clock,
        settings: Arc::new(settings),
        metrics,
        limits,
        login_throttle,
        keyring,
        accounts,
        policy,
        reports,
    })
}

/// Signs an audit checkpoint every `every` while the chain advances (DOMAIN.md §9).
pub async fn checkpoint_loop(state: AppState, every: std::time::Duration) {
    let Some(keyring) = state.keyring.clone() else { return };
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let now = state.clock.now();
        let (store, keyring) = (Arc::clone(&state.store), Arc::clone(&keyring));
        let made = tokio::task::spawn_blocking(move || {
            xinyong_store::audit_verify::make_checkpoint(store.as_ref(), &keyring, now)
        })
        .await;
        match made {
            Ok(Ok(Some(cp))) => tracing::info!(seq = cp.seq, key = %cp.key_id, "audit checkpoint signed"),
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "signing an audit checkpoint"),
            Err(e) => tracing::error!(error = %e, "checkpoint task"),
        }
    }
}

/// Deletes ended browser sessions every few minutes (a session past its timeout is refused anyway;
/// this keeps the table small). Several servers may sweep at once: deleting twice is harmless.
async fn session_sweep_loop(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(300));
    loop {
        tick.tick().await;
        let now = state.clock.now();
        let idle = now - chrono::Duration::minutes(i64::from(state.settings.session_idle_minutes));
        let created = now - chrono::Duration::hours(i64::from(state.settings.session_absolute_hours));
        match state.blocking(move |store| Ok(store.purge_sessions(idle, created)?)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "ended sessions removed"),
            Err(e) => tracing::warn!(error = %e.message, "removing ended sessions"),
        }
    }
}

/// Runs the day's full evaluation ([`xinyong_evaluate::run::daily`]) at the first check, every 10
/// minutes, past the configured hour. Several servers may check at once: each looks for a full run
/// begun today first, so at most a run started in the same instant is repeated, and a repeated run
/// writes no score (none moved).
async fn daily_evaluation_loop(state: AppState) {
    let every = std::time::Duration::from_secs(600);
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tick.tick().await;
        let (store, hour, now) = (Arc::clone(&state.store), state.settings.daily_evaluation_hour, state.clock.now());
        match tokio::task::spawn_blocking(move || xinyong_evaluate::run::daily(store.as_ref(), hour, now)).await {
            Ok(Ok(Some(run))) => {
                tracing::info!(run = run.id, subjects = run.subjects, changed = run.changed, "daily evaluation")
            }
            Ok(Ok(None)) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "daily evaluation"),
            Err(e) => tracing::error!(error = %e, "daily evaluation task"),
        }
    }
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let pusher = tokio::spawn(push::delivery_loop(state.clone()));
    let sweeper = tokio::spawn(session_sweep_loop(state.clone()));
    let evaluator = state.settings.daily_evaluation.then(|| tokio::spawn(daily_evaluation_loop(state.clone())));
    let app = api::router(state);
    // The peer's address reaches handlers (the sign-in throttle counts failures per address).
    let served = axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await;
    pusher.abort();
    sweeper.abort();
    if let Some(e) = evaluator {
        e.abort();
    }
    served?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "listening for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "listening for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
