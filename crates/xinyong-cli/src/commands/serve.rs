//! `xinyong serve`: the API (and, as it grows, the portal) on the platform's store.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use xinyong_server::{Clock, FixedClock, Settings, SystemClock};
use xinyong_store::Store;
use xinyong_store::keyring::Keyring;

use crate::args::Global;
use crate::context::{now, open_store};
use crate::{CmdResult, Failure};

pub fn run(g: &Global, listen: Option<SocketAddr>, config: Option<&Path>) -> CmdResult {
    let mut settings = Settings::load(config, |k| std::env::var(k).ok()).map_err(Failure::usage)?;
    if let Some(l) = listen {
        settings.listen = l;
    }
    let store: Arc<dyn Store> = Arc::from(open_store(g)?);
    serve_store(g, store, settings, |addr| println!("xinyong listening on http://{addr}"))
}

/// Runs the server until Ctrl-C / SIGTERM (shared with `demo`). `ready` is told the bound address.
pub fn serve_store(g: &Global, store: Arc<dyn Store>, settings: Settings, ready: impl FnOnce(SocketAddr)) -> CmdResult {
    let keyring = Arc::new(Keyring::open_or_create(&g.data.join("keys"), now(g)?)?);
    let clock: Arc<dyn Clock> = match &g.now {
        Some(_) => Arc::new(FixedClock(now(g)?)),
        None => Arc::new(SystemClock),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(Failure::failed)?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .map_err(|e| Failure::failed(format!("cannot listen on {}: {e}", settings.listen)))?;
        let addr = listener.local_addr().map_err(Failure::failed)?;
        let state = xinyong_server::app_state(store, settings, clock, Some(keyring)).map_err(Failure::failed)?;
        tokio::spawn(xinyong_server::checkpoint_loop(state.clone(), Duration::from_secs(60)));
        ready(addr);
        xinyong_server::serve(listener, state, xinyong_server::shutdown_signal()).await.map_err(Failure::failed)
    })
}
