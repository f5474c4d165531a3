//! `train serve`: the live lab. A page in the browser sets up two runs on
//! the same data and initial weights, starts, pauses and steps them, and
//! watches their losses, accuracies, gradients and decision surfaces live;
//! each run is a run directory it can download and take to the CLI.
//!
//! ```text
//! request.rs  the page's settings -> validated configs, the lab's limits
//! lab.rs      the labs of this server, their pages, their end
//! worker.rs   one run on its own thread: Trainer::fit, checkpoints, frames
//! view.rs     what the page is shown of a run (JSON)
//! inside.rs   the network's inside: diagram, region map, the clicked unit
//! archive.rs  a run directory as .tar.gz
//! routes.rs   HTTP: the page, JSON commands, Server-Sent Events
//! guard.rs    who may drive the lab: Host, Origin, JSON bodies, the token
//! assets.rs   the page's files, embedded (crates/train/web/)
//! ```

mod archive;
mod assets;
mod guard;
mod inside;
mod lab;
mod request;
mod routes;
mod view;
mod worker;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use train::error::describe_io_error;
use train::user_error;

use crate::cli::ServeArgs;
use lab::Labs;
use request::Limits;

/// Serves the lab until Ctrl-C or SIGTERM.
pub fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: &ServeArgs) -> anyhow::Result<()> {
    let address = SocketAddr::new(args.listen, args.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .map_err(|error| {
            user_error!(
                "cannot listen on {address}: {}; choose another --port (0 picks a free one)",
                describe_io_error(&error)
            )
        })?;
    let local = listener
        .local_addr()
        .context("cannot read the server's address")?;
    let root = tempfile::Builder::new()
        .prefix("activation-lab-")
        .tempdir()
        .context("cannot create the lab's temporary folder")?;
    let labs = Arc::new(Labs::new(
        Limits::with_max_runs(usize::from(args.max_runs)),
        root.path().to_path_buf(),
        Duration::from_secs(args.idle_timeout),
    ));
    if !args.listen.is_loopback() {
        eprintln!(
            "warning: listening on {local}: anyone who can reach this machine can start training \
             runs on it (the default, 127.0.0.1, is this machine only)"
        );
    }
    // Off loopback, the printed URL carries a per-start secret the page keeps.
    let token = if args.listen.is_loopback() {
        None
    } else {
        Some(guard::new_token().context("cannot draw the lab's token")?)
    };
    let guard = guard::Guard::new(args.listen, local.port(), &args.allow_host, token);
    let stopped = stop_signal()?;
    let url = match guard.token() {
        Some(token) => format!("http://{local}/?token={token}"),
        None => format!("http://{local}"),
    };
    // A closed standard output (`train serve | head -1`) is no reason to stop.
    let mut out = std::io::stdout();
    let _ = writeln!(out, "Activation Lab on {url}");
    let _ = writeln!(
        out,
        "  press Ctrl-C to stop; runs live in {}",
        root.path().display()
    );
    let _ = out.flush();
    if args.open
        && let Err(error) = opener::open_browser(&url)
    {
        eprintln!("warning: cannot open a browser ({error}); open {url} yourself");
    }

    let reaper = {
        let labs = labs.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            loop {
                tick.tick().await;
                labs.reap();
            }
        })
    };
    let stopping = labs.clone();
    axum::serve(listener, routes::router(labs, guard))
        .with_graceful_shutdown(async move {
            stopped.await;
            // Ends every run, which ends every event stream.
            stopping.clear();
        })
        .await
        .context("the server failed")?;
    reaper.abort();
    let _ = writeln!(std::io::stdout(), "Activation Lab stopped.");
    Ok(())
}

/// Ctrl-C or SIGTERM, listened for from the moment it is made (before the
/// address is printed, so that a signal right after it stops the server
/// cleanly).
fn stop_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("cannot listen for Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}
