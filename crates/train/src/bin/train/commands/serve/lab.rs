//! The labs a server holds: one per page, each a pair (or one) of runs on
//! worker threads, an event channel to the page, and a count of the pages
//! listening so that a lab nobody watches is stopped.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::broadcast;
use train::config::ConfigFolder;
use train::error::{UserError, one_line};

use super::request::{LabPlan, LabRequest, Limits, OWN_DATA_FILE, RUN_NAMES};
use super::view::{Points, RunView, own_points, points};
use super::worker::{RunHandle, RunSpec, Started, spawn};

/// Frames a slow page may fall behind by before it is sent a snapshot instead.
const EVENT_BUFFER: usize = 256;

/// An error for the page: an HTTP status and one line.
#[derive(Debug)]
pub struct LabError {
    pub status: u16,
    pub message: String,
}

impl LabError {
    /// The request was wrong (400).
    pub fn bad(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
        }
    }

    /// No such lab (404).
    pub fn missing(id: &str) -> Self {
        Self {
            status: 404,
            message: format!("no lab `{id}` (a lab ends when its page has been gone a while)"),
        }
    }

    /// Right request, wrong moment (409).
    pub fn conflict(message: impl Into<String>) -> Self {
        Self {
            status: 409,
            message: message.into(),
        }
    }

    /// A user's mistake is a 400; anything else is the server's (500).
    fn from_anyhow(error: &anyhow::Error) -> Self {
        let users = error.chain().any(|cause| cause.is::<UserError>());
        Self {
            status: if users { 400 } else { 500 },
            message: one_line(error),
        }
    }
}

/// Whether a page is watching a lab, and since when none is.
#[derive(Debug)]
pub struct Presence {
    pages: AtomicUsize,
    left: Mutex<Instant>,
}

/// Held by each open event stream: the page is there while it lives.
pub struct PageGuard(Arc<Presence>);

impl PageGuard {
    fn new(presence: Arc<Presence>) -> Self {
        presence.pages.fetch_add(1, Ordering::SeqCst);
        Self(presence)
    }
}

impl Drop for PageGuard {
    fn drop(&mut self) {
        *self.0.left.lock().expect("presence lock") = Instant::now();
        self.0.pages.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a lab is, as the page first sees it.
#[derive(Clone, Debug, Serialize)]
pub struct LabInfo {
    pub id: String,
    /// Epochs per second shown (0: unlimited).
    pub speed: f64,
    /// The data's points under the picture, if the data has one.
    pub points: Option<Arc<Points>>,
    pub runs: Vec<RunInfo>,
}

/// One run of a lab.
#[derive(Clone, Debug, Serialize)]
pub struct RunInfo {
    pub name: &'static str,
    pub activation: String,
    /// `config.toml` as the run directory holds it.
    pub config_toml: String,
    /// The backend's name, for the command the page shows.
    pub backend_name: String,
    #[serde(flatten)]
    pub started: Started,
}

/// A page's runs.
pub struct Lab {
    pub info: LabInfo,
    pub runs: Vec<RunHandle>,
    /// Frames from the runs to every open stream; dropped with the lab,
    /// which ends the streams.
    pub events: broadcast::Sender<Arc<str>>,
    presence: Arc<Presence>,
}

/// The whole state a page starts from: the lab and every run's view.
#[derive(Serialize)]
struct Snapshot<'a> {
    r#type: &'static str,
    lab: &'a LabInfo,
    runs: Vec<RunView>,
}

impl Lab {
    /// Everything a new page needs, as JSON.
    pub fn snapshot_json(&self) -> String {
        let runs = self
            .runs
            .iter()
            .map(|run| run.view.lock().expect("view lock").clone())
            .collect();
        serde_json::to_string(&Snapshot {
            r#type: "snapshot",
            lab: &self.info,
            runs,
        })
        .expect("a snapshot serialises")
    }

    /// A page starts listening.
    pub fn page(&self) -> PageGuard {
        PageGuard::new(self.presence.clone())
    }

    /// The run named `name` (`A`, `B`; case-insensitive) or at that index.
    pub fn run(&self, name: &str) -> Result<&RunHandle, LabError> {
        self.runs
            .iter()
            .find(|run| run.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| LabError {
                status: 404,
                message: format!(
                    "no run `{name}` in this lab (it has {})",
                    self.runs
                        .iter()
                        .map(|r| r.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }

    /// Whether no page has listened for `idle`.
    fn abandoned(&self, idle: Duration) -> bool {
        self.presence.pages.load(Ordering::SeqCst) == 0
            && self.presence.left.lock().expect("presence lock").elapsed() >= idle
    }
}

/// Writes the page's own data into a run's directory (made here).
fn write_own_data(dir: &std::path::Path, csv: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)?;
    train::io::atomic::write_atomic(&dir.join(OWN_DATA_FILE), csv.as_bytes())
}

/// A lab's id: unguessable enough that one page cannot drive another's
/// lab by counting (std's per-process random hash keys, and a counter).
fn lab_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_usize(COUNTER.fetch_add(1, Ordering::Relaxed));
    format!("{:016x}", hasher.finish())
}

#[derive(Default)]
struct Registry {
    labs: HashMap<String, Arc<Lab>>,
    /// Runs being built, counted against the limit already.
    reserved: usize,
}

impl Registry {
    fn runs(&self) -> usize {
        self.reserved + self.labs.values().map(|lab| lab.runs.len()).sum::<usize>()
    }
}

/// Every lab of this server.
pub struct Labs {
    registry: Mutex<Registry>,
    pub limits: Limits,
    /// Where the runs' directories go (the server's own temporary folder).
    root: PathBuf,
    /// How long a lab lives with no page.
    pub idle: Duration,
}

impl Labs {
    pub fn new(limits: Limits, root: PathBuf, idle: Duration) -> Self {
        Self {
            registry: Mutex::default(),
            limits,
            root,
            idle,
        }
    }

    /// Runs held now, over all labs.
    pub fn runs_in_use(&self) -> usize {
        self.registry.lock().expect("registry lock").runs()
    }

    /// Checks a page's request, builds its runs on their threads (blocking:
    /// call it off the async runtime) and registers the lab.
    pub fn create(&self, request: &LabRequest) -> Result<Arc<Lab>, LabError> {
        let plan = request.plan(&self.limits).map_err(LabError::bad)?;
        let wanted = plan.configs.len();
        {
            let mut registry = self.registry.lock().expect("registry lock");
            let in_use = registry.runs();
            if in_use + wanted > self.limits.max_runs {
                return Err(LabError::bad(format!(
                    "the server holds {in_use} of its {} runs; close another lab's page (its runs \
                     stop {} s later) or restart the server with a larger --max-runs",
                    self.limits.max_runs,
                    self.idle.as_secs()
                )));
            }
            registry.reserved += wanted;
        }
        let built = self.build(plan);
        let mut registry = self.registry.lock().expect("registry lock");
        registry.reserved -= wanted;
        let lab = Arc::new(built?);
        registry.labs.insert(lab.info.id.clone(), lab.clone());
        Ok(lab)
    }

    fn build(&self, plan: LabPlan) -> Result<Lab, LabError> {
        let id = lab_id();
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let lab_points = match &plan.own {
            Some(own) => Some(own_points(&plan.configs[0], &own.rows, own.names.clone())),
            None => points(&plan.configs[0]),
        }
        .map(Arc::new);
        let mut runs = Vec::new();
        let mut infos = Vec::new();
        for (index, (mut config, name)) in plan.configs.into_iter().zip(RUN_NAMES).enumerate() {
            let dir = self.root.join(format!("{id}-{name}"));
            if let Some(own) = &plan.own {
                // The run reads it as `train --config DIR/config.toml` will:
                // `data.csv` beside the config.
                write_own_data(&dir, &own.csv).map_err(|error| LabError::from_anyhow(&error))?;
                config.data.folder = ConfigFolder(Some(dir.clone()));
            }
            let config_toml = config.to_toml_in(&dir);
            let spec = RunSpec {
                index,
                name,
                config: config.clone(),
                backend: plan.backend,
                dir,
                speed: plan.speed,
                points: lab_points.clone(),
            };
            let (handle, started) =
                spawn(spec, events.clone()).map_err(|error| LabError::from_anyhow(&error))?;
            runs.push(handle);
            infos.push(RunInfo {
                name,
                activation: config.model.activation.to_string(),
                config_toml,
                backend_name: plan.backend.name().to_string(),
                started,
            });
        }
        Ok(Lab {
            info: LabInfo {
                id,
                speed: plan.speed,
                points: lab_points,
                runs: infos,
            },
            runs,
            events,
            presence: Arc::new(Presence {
                pages: AtomicUsize::new(0),
                left: Mutex::new(Instant::now()),
            }),
        })
    }

    /// The lab `id`.
    pub fn get(&self, id: &str) -> Result<Arc<Lab>, LabError> {
        self.registry
            .lock()
            .expect("registry lock")
            .labs
            .get(id)
            .cloned()
            .ok_or_else(|| LabError::missing(id))
    }

    /// Ends the lab `id`: its runs stop and their directories go.
    pub fn remove(&self, id: &str) -> Result<(), LabError> {
        let removed = self.registry.lock().expect("registry lock").labs.remove(id);
        removed.map(drop).ok_or_else(|| LabError::missing(id))
    }

    /// Ends every lab no page has watched for the idle time.
    pub fn reap(&self) {
        let idle = self.idle;
        self.registry
            .lock()
            .expect("registry lock")
            .labs
            .retain(|_, lab| !lab.abandoned(idle));
    }

    /// Ends every lab (the server is stopping).
    pub fn clear(&self) {
        self.registry.lock().expect("registry lock").labs.clear();
    }
}
