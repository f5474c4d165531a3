//! One run of a lab on its own thread: the library's [`Trainer`] and its one
//! epoch loop, driven by the page's commands, writing the run directory as
//! `train --out` does and streaming what it measures.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model::LayerWeights;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{broadcast, oneshot};
use train::backend::{Backend, BackendKind};
use train::config::{ConfigError, RunConfig};
use train::data::{self, Standardizer};
use train::error::one_line;
use train::experiments::surface::TrainedNetwork;
use train::session::RunSession;
use train::training::divergence::Diverged;
use train::training::init::initial_weights_for;
use train::training::trainer::{FitEnd, Trainer};

use super::archive::{Archive, archive_run};
use super::inside::{MapMoment, Pace, RegionView, Wish, diagram, focus, region_view};
use super::request::toml_value;
use super::view::{LrChange, Points, RecordView, RunState, RunView, picture};

/// The page hears from a running run at most this often.
const FRAME_INTERVAL: Duration = Duration::from_millis(100);

/// A reply to the page, or the one-line reason why not.
pub type Reply<T> = oneshot::Sender<Result<T, String>>;

/// Why a learning-rate change was not made.
#[derive(Debug)]
pub enum LrRefused {
    /// The run is training (a 409: pause it first).
    Running(String),
    /// The rate itself is wrong (a 400), with the config key's message.
    Invalid(String),
}

/// What the page can ask of a run.
pub enum Command {
    /// Train until the last epoch.
    Start,
    /// Stop after the current step and checkpoint.
    Pause,
    /// Train one more epoch, then pause.
    Step,
    /// Back to the initial weights, a fresh run directory.
    Reset,
    /// A new constant learning rate, only while paused.
    SetLr(f64, oneshot::Sender<Result<(), LrRefused>>),
    /// Epochs per second to show (0: unlimited).
    Speed(f64),
    /// The run directory as a `.tar.gz`, checkpointed at this instant.
    Archive(Reply<Archive>),
    /// What the page wants to see of the network's inside; refused when
    /// the unit is not in the network.
    View(Wish, Reply<()>),
}

/// What a run is made from.
pub struct RunSpec {
    /// Its place in the lab (0 = A).
    pub index: usize,
    pub name: &'static str,
    pub config: RunConfig,
    pub backend: BackendKind,
    /// Its run directory, chosen by the server.
    pub dir: PathBuf,
    pub speed: f64,
    /// The data's points, for the picture (None: no picture for this data).
    pub points: Option<Arc<Points>>,
}

/// What a started run tells the page once.
#[derive(Clone, Debug, Serialize)]
pub struct Started {
    /// SHA-256 of the initial weights (float32 bytes, layer by layer).
    pub initial_weights_sha256: String,
    /// The backend and its device, e.g. `flex: CPU (flex)`.
    pub backend: String,
}

/// The server's side of a running worker.
pub struct RunHandle {
    pub name: &'static str,
    commands: Sender<Command>,
    /// Set with every command, so that a long epoch stops at the next step.
    interrupt: Arc<AtomicBool>,
    pub view: Arc<Mutex<RunView>>,
}

impl RunHandle {
    /// Hands `command` to the run.
    pub fn send(&self, command: Command) -> Result<(), String> {
        self.commands
            .send(command)
            .map_err(|_| format!("run {} has ended", self.name))?;
        self.interrupt.store(true, Ordering::Relaxed);
        Ok(())
    }
}

impl Drop for RunHandle {
    /// The worker sees its commands' channel close and ends.
    fn drop(&mut self) {
        self.interrupt.store(true, Ordering::Relaxed);
    }
}

/// Starts the run's thread and waits until its network is built (a bad
/// backend or data fails here, before the page sees a lab).
pub fn spawn(
    spec: RunSpec,
    events: broadcast::Sender<Arc<str>>,
) -> anyhow::Result<(RunHandle, Started)> {
    let (commands, receiver) = mpsc::channel();
    let (ready, started) = mpsc::channel();
    let interrupt = Arc::new(AtomicBool::new(false));
    let view = Arc::new(Mutex::new(RunView::new(spec.name, &spec.config)));
    let handle = RunHandle {
        name: spec.name,
        commands,
        interrupt: interrupt.clone(),
        view: view.clone(),
    };
    std::thread::Builder::new()
        .name(format!("lab-run-{}", spec.name))
        .spawn(move || {
            let dir = spec.dir.clone();
            match LiveRun::build(&spec) {
                Ok((live, started)) => {
                    let _ = ready.send(Ok(started));
                    let mut worker = Worker {
                        spec,
                        live: Some(live),
                        view,
                        events,
                        commands: receiver,
                        interrupt,
                        target: None,
                        last_frame: Instant::now(),
                        wish: Wish::default(),
                        diagram_pace: Pace::default(),
                        region_pace: Pace::default(),
                    };
                    worker.publish();
                    worker.serve();
                }
                Err(error) => {
                    let _ = ready.send(Err(error));
                }
            }
            // The lab is gone: its run directory goes with it.
            let _ = std::fs::remove_dir_all(dir);
        })?;
    let started = started
        .recv()
        .map_err(|_| anyhow::anyhow!("the run's thread ended before it started"))??;
    Ok((handle, started))
}

/// A run's network, optimiser, directory and records.
struct LiveRun {
    trainer: Trainer,
    /// Its directory's life, as `train --out` lives it: records, checkpoints, result.
    session: RunSession,
    backend: Backend,
    standardizer: Option<Standardizer>,
    /// The records the page has been sent.
    sent: usize,
    /// `(epoch, regions)` of every region map made.
    region_counts: Vec<(usize, usize)>,
    lr_changes: Vec<LrChange>,
    generation: u64,
    state: RunState,
    message: Option<String>,
}

impl LiveRun {
    /// Builds the network from the config's initial weights and writes the
    /// step-0 checkpoint, as `train --out` does.
    fn build(spec: &RunSpec) -> anyhow::Result<(Self, Started)> {
        let config = &spec.config;
        let backend = Backend::open(spec.backend)?;
        let split = data::load_for(config)?;
        let weights = initial_weights_for(config);
        let mut session = RunSession::create(&spec.dir, config, &split)?;
        let trainer = Trainer::new(config, &backend, &split, &weights)?;
        session.start(&trainer)?;
        let started = Started {
            initial_weights_sha256: weights_sha256(&weights),
            backend: format!("{}: {}", backend.kind, backend.description),
        };
        let live = Self {
            trainer,
            session,
            backend,
            standardizer: split.standardizer,
            sent: 0,
            region_counts: Vec::new(),
            lr_changes: Vec::new(),
            generation: 0,
            state: RunState::Paused,
            message: None,
        };
        Ok((live, started))
    }

    /// Checkpoints the run unless its newest checkpoint is this step's.
    fn save(&mut self) -> anyhow::Result<()> {
        self.session.save(&self.trainer)
    }
}

/// What a frame shows of the network's inside.
#[derive(Default)]
struct Inside {
    diagram: Option<super::inside::Diagram>,
    regions: Option<RegionView>,
    focus: Option<super::inside::Focus>,
}

/// SHA-256 over the weights' float32 bytes, layer by layer (weight, bias).
fn weights_sha256(weights: &[LayerWeights]) -> String {
    let mut hasher = Sha256::new();
    for layer in weights {
        for value in layer.weight.iter().chain(&layer.bias) {
            hasher.update(value.to_le_bytes());
        }
    }
    hasher
        .finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The run's thread.
struct Worker {
    spec: RunSpec,
    /// `None` only while a reset rebuilds it.
    live: Option<LiveRun>,
    view: Arc<Mutex<RunView>>,
    events: broadcast::Sender<Arc<str>>,
    commands: Receiver<Command>,
    interrupt: Arc<AtomicBool>,
    /// The epoch to pause at, while training.
    target: Option<usize>,
    last_frame: Instant,
    /// What the page asked to see of the network.
    wish: Wish,
    diagram_pace: Pace,
    region_pace: Pace,
}

/// What a frame of the event stream carries.
#[derive(Serialize)]
struct Frame<'a> {
    r#type: &'static str,
    run: usize,
    #[serde(flatten)]
    view: &'a RunView,
}

impl Worker {
    fn live(&mut self) -> &mut LiveRun {
        self.live.as_mut().expect("a built run")
    }

    /// Takes commands and trains until the lab goes away.
    fn serve(&mut self) {
        loop {
            let command = match self.target {
                Some(_) => match self.commands.try_recv() {
                    Ok(command) => Some(command),
                    Err(TryRecvError::Empty) => None,
                    Err(TryRecvError::Disconnected) => return,
                },
                None => match self.commands.recv() {
                    Ok(command) => Some(command),
                    Err(_) => return,
                },
            };
            match command {
                Some(command) => {
                    if !self.handle(command) {
                        return;
                    }
                }
                None => {
                    self.interrupt.store(false, Ordering::Relaxed);
                    if !self.train() {
                        return;
                    }
                }
            }
        }
    }

    /// Carries out one command; false when the lab is gone.
    fn handle(&mut self, command: Command) -> bool {
        let trainable = matches!(self.live().state, RunState::Paused | RunState::Running);
        let epochs = self.spec.config.training.epochs;
        match command {
            Command::Start if trainable => self.set_running(Some(epochs)),
            Command::Step if trainable => {
                let next = self.live().trainer.position().epoch + 1;
                self.set_running(Some(next.min(epochs)));
            }
            Command::Start | Command::Step => {}
            Command::Pause => {
                if self.target.take().is_some() {
                    self.pause();
                }
            }
            Command::Reset => return self.reset(),
            Command::Speed(speed) => self.spec.speed = speed,
            Command::SetLr(lr, reply) => {
                let changed = self.set_lr(lr);
                // The view first: the page reads it once the reply comes.
                self.publish();
                let _ = reply.send(changed);
            }
            Command::Archive(reply) => {
                let _ = reply.send(self.archive());
            }
            Command::View(wish, reply) => {
                // Shown at once, whatever the pace.
                self.diagram_pace = Pace::default();
                self.region_pace = Pace::default();
                let hidden = &self.spec.config.model.hidden;
                let known = wish.unit.is_none_or(|(layer, unit)| {
                    hidden.get(layer).is_some_and(|&units| unit < units)
                });
                if !known {
                    let (layer, unit) = wish.unit.unwrap_or_default();
                    let _ = reply.send(Err(format!(
                        "unit: run {} has no unit {unit} in hidden layer {layer} (hidden {hidden:?}, \
                         both counted from 0)",
                        self.spec.name
                    )));
                    return true;
                }
                self.wish = wish;
                self.publish();
                let _ = reply.send(Ok(()));
            }
        }
        true
    }

    fn set_running(&mut self, target: Option<usize>) {
        self.target = target;
        self.live().state = RunState::Running;
        self.publish();
    }

    /// Paused: checkpointed, so that the page can download it and a crash
    /// loses nothing.
    fn pause(&mut self) {
        let live = self.live();
        live.state = RunState::Paused;
        if let Err(error) = live.save() {
            live.state = RunState::Failed;
            live.message = Some(one_line(&error));
        }
        self.publish();
    }

    /// A fresh run from the initial weights; false (the run ends, its view
    /// saying why) if it cannot be built again.
    fn reset(&mut self) -> bool {
        self.target = None;
        let generation = self.live().generation + 1;
        // The old run's lock is released before its directory is replaced.
        self.live = None;
        let _ = std::fs::remove_dir_all(&self.spec.dir);
        let built = LiveRun::build(&self.spec);
        let mut view = RunView::new(self.spec.name, &self.spec.config);
        view.generation = generation;
        *self.view.lock().expect("view lock") = view;
        match built {
            Ok((mut live, _)) => {
                live.generation = generation;
                self.live = Some(live);
                self.publish();
                true
            }
            Err(error) => {
                let mut view = self.view.lock().expect("view lock");
                view.state = RunState::Failed;
                view.message = Some(one_line(&error));
                false
            }
        }
    }

    /// Commands come in order, so a rate sent right after a pause finds the
    /// run paused (the view may still say running).
    fn set_lr(&mut self, lr: f64) -> Result<(), LrRefused> {
        let name = self.spec.name;
        if self.target.is_some() {
            return Err(LrRefused::Running(format!(
                "run {name}: pause the run before changing its learning rate"
            )));
        }
        let checked = toml_value("training.lr", &serde_json::json!(lr))
            .and_then(|value| {
                self.spec
                    .config
                    .with_values(&[("training.lr".to_string(), value)])
            })
            .and_then(|config| {
                config
                    .validate()
                    .map_err(|ConfigError { key, message }| (key.to_string(), message))
            });
        checked.map_err(|(key, message)| {
            LrRefused::Invalid(format!("run {name}: key `{key}`: {message}"))
        })?;
        let live = self.live();
        live.trainer
            .set_learning_rate(lr)
            .map_err(|error| LrRefused::Invalid(format!("run {name}: {error}")))?;
        let after_epoch = live.trainer.position().epoch;
        live.lr_changes.push(LrChange { after_epoch, lr });
        Ok(())
    }

    fn archive(&mut self) -> Result<Archive, String> {
        let name = self.spec.name;
        let live = self.live();
        // A diverged run keeps its last finite checkpoint.
        if live.state != RunState::Diverged {
            live.save().map_err(|error| one_line(&error))?;
        }
        let epoch = live.trainer.position().epoch;
        let config = &self.spec.config;
        let folder = format!(
            "lab-{}-{}-{}-epoch{epoch}",
            config.data.kind.name(),
            name.to_lowercase(),
            config.model.activation
        );
        archive_run(&self.spec.dir, &folder).map_err(|error| one_line(&error))
    }

    /// Trains towards the target; false when the lab is gone.
    fn train(&mut self) -> bool {
        let Some(target) = self.target else {
            return true;
        };
        let epochs = self.spec.config.training.epochs;
        let speed = self.spec.speed;
        let interrupt = self.interrupt.clone();
        let mut pending = None;
        let mut gone = false;
        let paced_from = (Instant::now(), self.live().trainer.position().epoch);
        let live = self.live.as_mut().expect("a built run");
        let LiveRun {
            trainer, session, ..
        } = live;
        let commands = &self.commands;
        let last_frame = self.last_frame;
        let fitted = trainer.fit(target, &interrupt, |trainer, record| {
            let epoch = trainer.position().epoch;
            session.epoch_done(trainer, record)?;
            // Wait for the pace, listening for the page meanwhile.
            let wait = if speed > 0.0 {
                let due =
                    paced_from.0 + Duration::from_secs_f64((epoch - paced_from.1) as f64 / speed);
                due.saturating_duration_since(Instant::now())
            } else {
                Duration::ZERO
            };
            match commands.recv_timeout(wait) {
                Ok(command) => pending = Some(command),
                Err(RecvTimeoutError::Disconnected) => gone = true,
                Err(RecvTimeoutError::Timeout) => {}
            }
            if pending.is_some() || gone {
                interrupt.store(true, Ordering::Relaxed);
            }
            // Out of the loop for a moment, to send the page a frame.
            if last_frame.elapsed() >= FRAME_INTERVAL {
                interrupt.store(true, Ordering::Relaxed);
            }
            Ok(())
        });
        if gone {
            return false;
        }
        let position = self.live().trainer.position();
        match fitted {
            Ok(FitEnd::EarlyStopped) => self.finish(),
            Ok(FitEnd::Finished) if position.epoch >= epochs => self.finish(),
            Ok(FitEnd::Finished) => {
                // A step's epoch is done.
                self.target = None;
                self.pause();
            }
            Ok(FitEnd::Stopped) => self.publish(),
            Err(error) => self.fail(error),
        }
        match pending {
            Some(command) => self.handle(command),
            None => true,
        }
    }

    /// The last epoch is done: the final checkpoint, then `result.json`,
    /// which makes the run directory a finished run.
    fn finish(&mut self) {
        self.target = None;
        let live = self.live.as_mut().expect("a built run");
        let written = live.session.finish(&live.trainer);
        live.state = RunState::Finished;
        if let Err(error) = written {
            live.state = RunState::Failed;
            live.message = Some(one_line(&error));
        }
        self.publish();
    }

    fn fail(&mut self, error: anyhow::Error) {
        self.target = None;
        let live = self.live();
        // A divergence ends the run: the session records it in result.json.
        let error = live.session.diverged(&live.trainer, error);
        live.state = if error.is::<Diverged>() {
            RunState::Diverged
        } else {
            RunState::Failed
        };
        live.message = Some(one_line(&error));
        self.publish();
    }

    /// Sends the page what changed since the last frame, with the picture
    /// of the network as it is now, and keeps the view a new page starts from.
    fn publish(&mut self) {
        self.last_frame = Instant::now();
        let index = self.spec.index;
        let config = &self.spec.config;
        let points = self.spec.points.clone();
        let name = self.spec.name;
        let wish = self.wish;
        let training = self.target.is_some();
        let pace = &mut self.region_pace;
        let diagram_pace = &mut self.diagram_pace;
        let live = self.live.as_mut().expect("a built run");
        let epoch = live.trainer.position().epoch;
        let mut inside = Inside::default();
        let picture = points.and_then(|points| {
            let weights = live.trainer.model().to_weights();
            let network = TrainedNetwork::new(
                config,
                config.model.activation,
                &weights,
                live.standardizer.clone(),
                &live.backend.device,
            )
            .ok()?;
            if diagram_pace.due(training) {
                let started = Instant::now();
                inside.diagram = Some(diagram(config, &network, &weights, &points));
                inside.focus = wish.unit.and_then(|unit| focus(&network, &points, unit));
                diagram_pace.took(started.elapsed());
            }
            if pace.due(training) {
                inside.regions = region_view(
                    config,
                    live.standardizer.as_ref(),
                    &weights,
                    &points,
                    MapMoment {
                        epoch,
                        training,
                        polygons: wish.regions,
                    },
                    pace,
                );
            }
            Some(picture(&network, &points))
        });
        let counted = match &inside.regions {
            Some(RegionView::Exact { epoch, count, .. })
                if live
                    .region_counts
                    .last()
                    .is_none_or(|(last, _)| last != epoch) =>
            {
                live.region_counts.push((*epoch, *count));
                vec![(*epoch, *count)]
            }
            _ => Vec::new(),
        };
        let new: Vec<RecordView> = live.session.records()[live.sent..]
            .iter()
            .map(RecordView::from)
            .collect();
        live.sent = live.session.records().len();
        let position = live.trainer.position();
        let frame_view = RunView {
            name,
            generation: live.generation,
            state: live.state,
            message: live.message.clone(),
            rise: live.trainer.rise_note(
                live.session
                    .records()
                    .last()
                    .and_then(|record| record.train_loss),
            ),
            epoch: position.epoch,
            epochs: config.training.epochs,
            lr: live
                .lr_changes
                .last()
                .map_or(config.training.lr, |change| change.lr),
            lr_changes: live.lr_changes.clone(),
            records: new,
            picture,
            diagram: inside.diagram,
            regions: inside.regions,
            region_counts: counted,
            focus: inside.focus,
            wish,
        };
        let json = serde_json::to_string(&Frame {
            r#type: "frame",
            run: index,
            view: &frame_view,
        })
        .expect("a frame serialises");
        {
            let mut view = self.view.lock().expect("view lock");
            let mut records = std::mem::take(&mut view.records);
            records.extend(frame_view.records.iter().cloned());
            let mut region_counts = std::mem::take(&mut view.region_counts);
            region_counts.extend(frame_view.region_counts.iter().copied());
            // A frame that did not redraw the inside keeps the last one.
            let regions = frame_view.regions.clone().or(view.regions.take());
            let diagram = frame_view.diagram.clone().or(view.diagram.take());
            let focus = match (&frame_view.focus, wish.unit) {
                (Some(focus), _) => Some(focus.clone()),
                (None, Some(_)) => view.focus.take(),
                (None, None) => None,
            };
            *view = RunView {
                records,
                region_counts,
                regions,
                diagram,
                focus,
                ..frame_view
            };
        }
        // No page listening is fine: a new one starts from the view.
        let _ = self.events.send(Arc::from(json));
    }
}
