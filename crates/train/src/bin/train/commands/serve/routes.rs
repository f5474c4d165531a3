//! The HTTP surface: the embedded page, JSON commands, the event stream and
//! the run archives. Every error is JSON `{"error": "one line"}`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use axum::{Router, middleware};
use futures_util::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::oneshot;
use train::backend::BackendKind;
use train::config::{DataKind, FunctionKind, InputFeature, LossKind, OptimizerKind};

use super::assets;
use super::guard::{Guard, guard_requests};
use super::inside::Wish;
use super::lab::{LabError, Labs};
use super::request::{DEFAULT_SPEED, LabRequest, default_runs, lab_config, presets};
use super::worker::{Command, LrRefused};

impl IntoResponse for LabError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(json!({ "error": self.message }))).into_response()
    }
}

/// Every route of the lab, behind the guard; every error JSON.
pub fn router(labs: Arc<Labs>, guard: Guard) -> Router {
    Router::new()
        .route("/", get(|| async { assets::page("index.html") }))
        .route(
            "/{file}",
            get(|Path(file): Path<String>| async move { assets::page(&file) }),
        )
        .route("/api/options", get(options))
        .route("/api/labs", post(create))
        .route("/api/labs/{id}", get(snapshot).delete(remove))
        .route("/api/labs/{id}/control", post(control))
        .route("/api/labs/{id}/events", get(events))
        .route("/api/labs/{id}/runs/{run}/archive", get(archive))
        .fallback(|| async {
            LabError {
                status: 404,
                message: "no such page".into(),
            }
        })
        .with_state(labs)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            Arc::new(guard),
            guard_requests,
        ))
        .layer(middleware::map_response(json_errors))
}

/// Request bodies the lab reads at most (a lab's settings are a few KiB).
const BODY_LIMIT: usize = 2 << 20;

/// Turns axum's own error answers (405's empty body, 413's and a bad path's
/// plain text) into the lab's `{"error": "..."}`, keeping their headers
/// (`Allow`).
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 64 << 10)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let message = match status {
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "the request body is larger than the lab reads ({} MiB)",
            BODY_LIMIT >> 20
        ),
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = parts
                .headers
                .get(header::ALLOW)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default();
            // The Allow header is added outside this layer, on a route's
            // own 405: then the message points to it.
            match allowed {
                "" => "method not allowed here (the Allow header lists the methods)".to_string(),
                allowed => format!("method not allowed here (allowed: {allowed})"),
            }
        }
        _ if text.is_empty() => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_ascii_lowercase(),
        _ => text.replace('\n', " "),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    let body = json!({ "error": message }).to_string();
    Response::from_parts(parts, axum::body::Body::from(body))
}

/// What the page's form offers, its defaults and the server's limits.
async fn options(State(labs): State<Arc<Labs>>) -> Json<serde_json::Value> {
    let names = |items: Vec<&'static str>| serde_json::Value::from(items);
    Json(json!({
        "backends": names(BackendKind::compiled().into_iter().map(BackendKind::name).collect()),
        "default_backend": BackendKind::default_for_build().map(BackendKind::name),
        "activations": names(model::Activation::ALL.iter().map(|a| a.name()).collect()),
        // The page draws two classes: no file kind, no kind of more classes.
        "data_kinds": names(DataKind::ALL.iter().filter(|k| **k != DataKind::Csv && k.default_classes().is_none_or(|c| c == 2)).map(|k| k.name()).collect()),
        "functions": names(FunctionKind::ALL.iter().map(|f| f.name()).collect()),
        "inputs": names(InputFeature::ALL.iter().map(|i| i.name()).collect()),
        "losses": names(LossKind::ALL.iter().filter(|l| **l != LossKind::CrossEntropy).map(|l| l.name()).collect()),
        "optimizers": names(OptimizerKind::NAMES.to_vec()),
        "limits": labs.limits,
        "runs_in_use": labs.runs_in_use(),
        "idle_timeout_s": labs.idle.as_secs(),
        "defaults": { "config": lab_config(), "runs": default_runs(), "speed": DEFAULT_SPEED },
        "presets": presets(),
    }))
}

/// `POST /api/labs`: a new lab from the page's settings.
async fn create(State(labs): State<Arc<Labs>>, body: Bytes) -> Result<Response, LabError> {
    let request: LabRequest = serde_json::from_slice(&body)
        .map_err(|error| LabError::bad(format!("request body: {error}")))?;
    let lab = tokio::task::spawn_blocking(move || labs.create(&request))
        .await
        .map_err(|error| LabError {
            status: 500,
            message: error.to_string(),
        })??;
    let body = lab.snapshot_json();
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// `GET /api/labs/{id}`: the lab and every run's whole view.
async fn snapshot(
    State(labs): State<Arc<Labs>>,
    Path(id): Path<String>,
) -> Result<Response, LabError> {
    let lab = labs.get(&id)?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        lab.snapshot_json(),
    )
        .into_response())
}

/// `DELETE /api/labs/{id}`: the page is done with it.
async fn remove(
    State(labs): State<Arc<Labs>>,
    Path(id): Path<String>,
) -> Result<StatusCode, LabError> {
    labs.remove(&id)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/labs/{id}/control`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Control {
    /// start | pause | step | reset | lr | speed | view
    action: String,
    /// One run's name (`A`, `B`); every run when absent.
    #[serde(default)]
    run: Option<String>,
    /// For `lr`.
    #[serde(default)]
    lr: Option<f64>,
    /// For `speed`: epochs per second, 0 for unlimited.
    #[serde(default)]
    speed: Option<f64>,
    /// For `view`: send the region map's polygons.
    #[serde(default)]
    regions: Option<bool>,
    /// For `view`: the clicked unit, `[hidden layer, unit]` from 0 (absent: none).
    #[serde(default)]
    unit: Option<(usize, usize)>,
}

async fn control(
    State(labs): State<Arc<Labs>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, LabError> {
    let control: Control = serde_json::from_slice(&body)
        .map_err(|error| LabError::bad(format!("request body: {error}")))?;
    // A field another action takes is a mistake, not something to ignore.
    let given = [
        ("lr", control.lr.is_some()),
        ("speed", control.speed.is_some()),
        ("regions", control.regions.is_some()),
        ("unit", control.unit.is_some()),
    ];
    let takes: &[&str] = match control.action.as_str() {
        "lr" => &["lr"],
        "speed" => &["speed"],
        "view" => &["regions", "unit"],
        _ => &[],
    };
    if let Some((field, _)) = given
        .iter()
        .find(|(field, given)| *given && !takes.contains(field))
    {
        return Err(LabError::bad(format!(
            "{field}: not a field of action `{}`",
            control.action
        )));
    }
    let lab = labs.get(&id)?;
    let runs = match &control.run {
        Some(name) => vec![lab.run(name)?],
        None => lab.runs.iter().collect(),
    };
    let send = |command: Command, run: &super::worker::RunHandle| {
        run.send(command).map_err(LabError::conflict)
    };
    match control.action.as_str() {
        "start" | "pause" | "step" | "reset" => {
            for run in runs {
                let command = match control.action.as_str() {
                    "start" => Command::Start,
                    "pause" => Command::Pause,
                    "step" => Command::Step,
                    _ => Command::Reset,
                };
                send(command, run)?;
            }
        }
        "speed" => {
            let speed = control
                .speed
                .ok_or_else(|| LabError::bad("speed: give `speed`"))?;
            let speed = labs.limits.speed(speed).map_err(LabError::bad)?;
            for run in runs {
                send(Command::Speed(speed), run)?;
            }
        }
        "lr" => {
            let lr = control.lr.ok_or_else(|| LabError::bad("lr: give `lr`"))?;
            // The workers decide: they see the commands in order, so a
            // pause sent just before is already in effect.
            for run in runs {
                let (reply, answer) = oneshot::channel();
                send(Command::SetLr(lr, reply), run)?;
                answer
                    .await
                    .map_err(|_| LabError::conflict(format!("run {} has ended", run.name)))?
                    .map_err(|refused| match refused {
                        LrRefused::Running(message) => LabError::conflict(message),
                        LrRefused::Invalid(message) => LabError::bad(message),
                    })?;
            }
        }
        "view" => {
            let wish = Wish {
                regions: control.regions.unwrap_or(false),
                unit: control.unit,
            };
            for run in runs {
                let (reply, answer) = oneshot::channel();
                send(Command::View(wish, reply), run)?;
                answer
                    .await
                    .map_err(|_| LabError::conflict(format!("run {} has ended", run.name)))?
                    .map_err(LabError::bad)?;
            }
        }
        other => {
            return Err(LabError::bad(format!(
                "action: unknown action `{other}` (one of start, pause, step, reset, lr, speed, \
                 view)"
            )));
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/labs/{id}/events`: a snapshot, then a frame per change, as
/// Server-Sent Events. The lab counts the page as there while it listens.
async fn events(
    State(labs): State<Arc<Labs>>,
    Path(id): Path<String>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, LabError> {
    let lab = labs.get(&id)?;
    // Subscribed before the snapshot is taken: a frame may repeat records
    // the snapshot holds (the page skips epochs it has), none is lost.
    let receiver = lab.events.subscribe();
    let first = Event::default().data(lab.snapshot_json());
    let guard = lab.page();
    let weak = Arc::downgrade(&lab);
    drop(lab);
    let frames = stream::unfold((receiver, guard), move |(mut receiver, guard)| {
        let weak = weak.clone();
        async move {
            let data = match receiver.recv().await {
                Ok(frame) => frame.to_string(),
                // Too far behind: start again from the whole state.
                Err(RecvError::Lagged(_)) => weak.upgrade()?.snapshot_json(),
                Err(RecvError::Closed) => return None,
            };
            Some((Ok(Event::default().data(data)), (receiver, guard)))
        }
    });
    let stream = stream::once(async { Ok(first) }).chain(frames);
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(2))))
}

/// `GET /api/labs/{id}/runs/{run}/archive`: the run directory as `.tar.gz`.
async fn archive(
    State(labs): State<Arc<Labs>>,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, LabError> {
    let lab = labs.get(&id)?;
    let run = lab.run(&name)?;
    let (reply, answer) = oneshot::channel();
    run.send(Command::Archive(reply))
        .map_err(LabError::conflict)?;
    drop(lab);
    let archive = answer
        .await
        .map_err(|_| LabError::conflict("the run ended while packing"))?
        .map_err(|message| LabError {
            status: 500,
            message,
        })?;
    let headers = [
        (header::CONTENT_TYPE, "application/gzip".to_string()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", archive.file_name),
        ),
        (
            header::HeaderName::from_static("x-archive-folder"),
            archive.folder,
        ),
    ];
    Ok((headers, archive.bytes).into_response())
}
