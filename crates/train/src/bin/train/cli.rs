//! Command-line definitions (clap derive). No logic lives here.

use model::LayerActivations;
use std::path::{Path, PathBuf};

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{ArgGroup, Args, Parser, Subcommand};
use train::backend::BackendKind;
use train::config::{InitKind, OptimizerKind, Overrides, Precision};

/// `--backend`: one of the library's backend names, listed in `--help`.
fn backend_name() -> impl TypedValueParser<Value = BackendKind> {
    PossibleValuesParser::new(BackendKind::NAMES).try_map(|name| name.parse::<BackendKind>())
}

/// `--optimizer`: one of the library's optimiser names, listed in `--help`.
fn optimizer_name() -> impl TypedValueParser<Value = OptimizerKind> {
    PossibleValuesParser::new(OptimizerKind::NAMES).try_map(|name| name.parse::<OptimizerKind>())
}

/// `--init`: one of the library's initialiser names, listed in `--help`.
fn init_name() -> impl TypedValueParser<Value = InitKind> {
    PossibleValuesParser::new(InitKind::NAMES).try_map(|name| name.parse::<InitKind>())
}

/// `--precision`: one of the library's precision names, listed in `--help`.
fn precision_name() -> impl TypedValueParser<Value = Precision> {
    PossibleValuesParser::new(Precision::NAMES).try_map(|name| name.parse::<Precision>())
}

/// `--backend`, declared once and flattened into every command that runs a
/// network.
#[derive(Debug, Clone, Args)]
pub struct BackendArg {
    /// Backend to run on; must be compiled in (cargo features ndarray, flex, wgpu).
    #[arg(long, value_parser = backend_name())]
    pub backend: Option<BackendKind>,
}

/// `--out DIR`, declared once and flattened into every command that writes
/// files; each command's help says what it writes there (`mut_arg`).
#[derive(Debug, Clone, Args)]
pub struct OutArg {
    /// Directory to write into (created when missing).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

impl OutArg {
    /// The directory, when one was given.
    pub fn dir(&self) -> Option<&Path> {
        self.out.as_deref()
    }
}

/// A list of activations in the lab's grammar ([`model::grammar`]): commas
/// separate alternatives, except inside parentheses, where they separate
/// parameters.
#[derive(Debug, Clone)]
pub struct ActivationList(pub Vec<LayerActivations>);

impl std::str::FromStr for ActivationList {
    type Err = model::ParseActivationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        model::grammar::parse_list(text).map(Self)
    }
}

impl std::ops::Deref for ActivationList {
    type Target = [LayerActivations];

    fn deref(&self) -> &[LayerActivations] {
        &self.0
    }
}

/// `--activation`, for the commands that train one network (compare and
/// collapse take `--activations`).
#[derive(Debug, Clone, Args)]
pub struct ActivationArg {
    /// Activation after each hidden layer: a name with optional parameters, e.g. relu, tanh,
    /// leaky_relu(0.2), elu(0.5); or one per hidden layer joined by `/`, e.g. relu/tanh/identity.
    #[arg(group = "run_settings", long, value_name = "NAME")]
    pub activation: Option<LayerActivations>,
}

/// Activation Lab: train the tutorial's network on Burn and measure why
/// activation functions matter.
///
/// Without a subcommand, trains one network (the seed's run by default) and
/// prints the loss each epoch.
#[derive(Debug, Parser)]
#[command(name = "train", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; training one network when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options of the default training command.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Subcommands beyond plain training.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train one network (the default when no subcommand is given).
    Run(RunArgs),
    /// Train several activations from the same data and weights; compare them with the best linear model.
    Compare(CompareArgs),
    /// Show that a network without activations folds into one linear layer, and one with relu does not.
    Collapse(CollapseArgs),
    /// Train one network and print per-layer gradient norms, dead and saturated units.
    Diagnose(DiagnoseArgs),
    /// Predict with a trained network: one prediction per row of a CSV file (for 0/1 labels also the class; under bce the probability).
    Predict(PredictArgs),
    /// Score a trained network on a CSV file with a target column: MSE and R^2, or loss and accuracy for 0/1 labels.
    Eval(EvalArgs),
    /// Measure training speed: steps/s, samples/s, loop and process seconds, peak memory.
    Bench(BenchArgs),
    /// One benchmark measurement in this process, printed as JSON (used by `bench`).
    #[command(hide = true)]
    BenchWorker(BenchWorkerArgs),
    /// Draw figures: the activations and their derivatives, a finished run, a decision surface.
    #[command(subcommand)]
    Plot(PlotCommand),
    /// The exact linear regions a piecewise-linear network (relu, leaky_relu, relu6, hardtanh, hardsigmoid, identity) cuts its 2-D input into (a map),
    /// or its linear pieces along lines through the data (--lines N, any number of inputs).
    Regions(RegionsArgs),
    /// Run a grid of configs (a sweep file's axes), resumably, sharded over machines; report it.
    #[command(subcommand)]
    Sweep(SweepCommand),
    /// The live lab: a browser page that trains two networks side by side while you watch.
    Serve(ServeArgs),
    /// Export a run as one Python file: its network as a torch nn.Module, its inputs and
    /// standardisation, a reader of its weights, and predict() as `train predict` answers.
    Export(ExportArgs),
}

/// Options of `train export`.
#[derive(Debug, Clone, Args)]
pub struct ExportArgs {
    /// The run directory (`train --out DIR`, or a downloaded lab run).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// The Python file to write.
    #[arg(long, value_name = "FILE.py")]
    pub pytorch: PathBuf,
}

/// Options of `train serve`.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on; anything but a loopback address lets other machines start runs.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1")]
    pub listen: std::net::IpAddr,
    /// Port to listen on; 0 picks a free one (the address printed is the real one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Open the page in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Training runs the server holds at once, over all pages (each page holds two).
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub max_runs: u16,
    /// Seconds a lab lives on after its last page went away (closed, reloaded, lost).
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86400))]
    pub idle_timeout: u64,
    /// Another host name the page may be reached by (a reverse proxy, a DNS name of this
    /// machine); repeatable. Requests naming any other host are refused.
    #[arg(long, value_name = "NAME")]
    pub allow_host: Vec<String>,
}

/// Options of `train regions`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("out", |arg| arg.help("Where to write regions.svg and regions.png (default: the run's directory)")))]
pub struct RegionsArgs {
    /// A run's output directory (finished or checkpointed).
    #[arg(required_unless_present = "weights", conflicts_with = "weights")]
    pub dir: Option<PathBuf>,
    /// A weights file instead (safetensors, ours or PyTorch's names), for the network of --config.
    #[arg(long, value_name = "FILE", requires = "config")]
    pub weights: Option<PathBuf>,
    /// The config the --weights belong to (its data, network and inputs).
    #[arg(long, value_name = "FILE", requires = "weights")]
    pub config: Option<PathBuf>,
    /// The box to map, as x1min,x1max,x2min,x2max (default: the data's range plus 10%).
    #[arg(long = "box", value_name = "X1MIN,X1MAX,X2MIN,X2MAX", value_parser = parse_box, allow_hyphen_values = true)]
    pub r#box: Option<[(f64, f64); 2]>,
    /// Count linear pieces along N lines through random pairs of training rows instead (any input
    /// size; at most 100000).
    #[arg(long, value_name = "N", conflicts_with_all = ["box", "out"], value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub lines: Option<u32>,
    /// Print the counts as JSON on standard output.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub out: OutArg,
    #[command(flatten)]
    pub backend: BackendArg,
}

/// The largest coordinate `--box` takes.
const MAX_BOX: f64 = 1e6;

/// `--box x1min,x1max,x2min,x2max`: four numbers within ±1e6, each min below its max.
fn parse_box(text: &str) -> Result<[(f64, f64); 2], String> {
    let values: Vec<f64> = text
        .split(',')
        .map(|v| {
            v.trim()
                .parse::<f64>()
                .map_err(|_| format!("`{v}` is not a number"))
        })
        .collect::<Result<_, _>>()?;
    match values.as_slice() {
        [a, b, c, d] if [a, b, c, d].iter().all(|v| v.abs() <= MAX_BOX) && a < b && c < d => {
            Ok([(*a, *b), (*c, *d)])
        }
        [_, _, _, _] => Err(format!(
            "needs x1min < x1max and x2min < x2max, each within ±{MAX_BOX:e} (float64 cuts lose \
             their precision beyond)"
        )),
        _ => Err(format!("needs 4 numbers, got {}", values.len())),
    }
}

/// `train plot ...`.
#[derive(Debug, Subcommand)]
pub enum PlotCommand {
    /// Every activation and its derivative on [-6, 6], one panel each (SVG and PNG).
    Activations(PlotActivationsArgs),
    /// A finished run's loss curve, accuracy and per-layer gradient norms (what it recorded), from its metrics.csv.
    Run(PlotRunArgs),
    /// A run on a 2-D set: its decision surface and training points; on a 1-D function: its fit (SVG and PNG).
    Surface(PlotSurfaceArgs),
    /// Every hidden unit of a run whose network sees 1 or 2 inputs: its output, where it switches,
    /// dead and saturated units marked (neurons.svg and .png).
    Neurons(PlotSurfaceArgs),
}

/// `train sweep ...`.
#[derive(Debug, Subcommand)]
pub enum SweepCommand {
    /// Run every point of a sweep (or this shard's) into DIR/points/<id>/; rerun to continue.
    Run(SweepRunArgs),
    /// Merge the finished points into sweep.csv and summary.csv; draw heatmaps.
    Report(SweepReportArgs),
}

/// Options of `train sweep run`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("out", |arg| arg.required(true).help("The sweep's directory (shared by every shard)")))]
pub struct SweepRunArgs {
    /// The sweep file: `base = "CONFIG"` (optional) and `[axes]` of config keys and value lists.
    pub sweep: PathBuf,
    #[command(flatten)]
    pub out: OutArg,
    /// Points trained at once, each in its own process (default: one per core; at most 256).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// This process's share of the grid: I/N (points whose index is I modulo N), or auto
    /// (SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX with --shard-count).
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<String>,
    /// The number of shards for --shard auto: the Slurm array's size (a task resubmitted alone
    /// keeps its shard), or a Kubernetes Indexed Job's completions.
    #[arg(long, value_name = "N")]
    pub shard_count: Option<usize>,
}

/// Options of `train sweep report`.
#[derive(Debug, Clone, Args)]
pub struct SweepReportArgs {
    /// The sweep's directory (its --out).
    pub dir: PathBuf,
    /// Draw a heatmap of the mean final metric over two axes, e.g. model.activation,training.lr
    /// (repeatable).
    #[arg(long, value_name = "KEY1,KEY2")]
    pub heatmap: Vec<String>,
}

/// Options of `train plot surface`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("out", |arg| arg.help("Where to write surface.svg/.png or fit.svg/.png (default: the run's directory)")))]
pub struct PlotSurfaceArgs {
    /// A run's output directory (its --out).
    pub dir: PathBuf,
    #[command(flatten)]
    pub out: OutArg,
    #[command(flatten)]
    pub backend: BackendArg,
}

/// Options of `train plot activations`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("out", |arg| arg.required(true).help("Directory for activations.svg and activations.png")))]
pub struct PlotActivationsArgs {
    #[command(flatten)]
    pub out: OutArg,
    #[command(flatten)]
    pub backend: BackendArg,
}

/// Options of `train plot run`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("out", |arg| arg.help("Where to write run.svg and run.png (default: the run's directory)")))]
pub struct PlotRunArgs {
    /// A run's output directory (holding metrics.csv).
    pub dir: PathBuf,
    #[command(flatten)]
    pub out: OutArg,
}

/// Options of `train compare`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("out", |arg| arg.help("Directory for compare.csv (seeds.csv with --seeds), summary.csv, \
    loss_curves.svg/.png and, for networks that see 1 or 2 inputs, surfaces.* or fits.*")))]
pub struct CompareArgs {
    /// Config, backend and overrides.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Activations to compare, comma-separated; parameters in parentheses (relu,leaky_relu(0.2)).
    #[arg(
        long,
        value_name = "NAMES",
        default_value = "identity,relu,leaky_relu,sigmoid,tanh"
    )]
    pub activations: ActivationList,
    #[command(flatten)]
    pub out: OutArg,
    /// Activations trained at the same time, on threads sharing the cores (default: one per
    /// core, at most 256; results do not depend on it).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub jobs: Option<u16>,
    /// Repeat over N seeds (the config's seed, +1, ...): each seed draws its own initial weights
    /// (shared by every activation) and, for generated data, its own rows; a CSV file's rows are
    /// the same for every seed. Reports means, 95% CIs, paired differences, win rates.
    #[arg(long, default_value_t = 1, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub seeds: u16,
    /// With --seeds: test every pair of activations (Holm-adjusted over all of them), not just
    /// each against the reference (identity, or the first listed).
    #[arg(long)]
    pub all_pairs: bool,
    /// With --seeds (and --tune): train each activation's seeds as one batched model (a
    /// leading seed dimension on every weight), several times faster; same numbers to float32
    /// rounding. Plain runs only: no learnable activation, schedule, clipping, penalty, early
    /// stopping; no dead/saturated columns.
    #[arg(long)]
    pub batched: bool,
    /// Tune a config key per activation: each activation trains with every value over
    /// --tune-seeds seeds and keeps the one with the best mean validation metric, then --seeds
    /// fresh seeds are scored on the test rows (needs data.validation_fraction and
    /// data.test_fraction). Repeat for a grid, e.g. --tune training.lr=0.001,0.003,0.01.
    #[arg(long, value_name = "KEY=V1,V2,...")]
    pub tune: Vec<train::experiments::tuning::TuneAxis>,
    /// Seeds per value while tuning (the config's seed onwards; the final seeds come after).
    #[arg(long, default_value_t = 3, value_name = "N", requires = "tune",
          value_parser = clap::value_parser!(u16).range(1..))]
    pub tune_seeds: u16,
}

/// Options of `train collapse`.
#[derive(Debug, Clone, Args)]
pub struct CollapseArgs {
    /// Config, backend and overrides.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Activations to fold, comma-separated; parameters in parentheses.
    #[arg(long, value_name = "NAMES", default_value = "identity,relu")]
    pub activations: ActivationList,
    /// Print the measurements as JSON instead of prose.
    #[arg(long)]
    pub json: bool,
}

/// Options shared by every command that trains. The flags in the group
/// `run_settings` fix what a run is, so `--resume` refuses them.
#[derive(Debug, Clone, Args)]
#[command(group = ArgGroup::new("run_settings").multiple(true))]
pub struct CommonArgs {
    /// TOML config to start from (default: the seed's settings, as in config/default.toml).
    #[arg(group = "run_settings", long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub backend: BackendArg,
    /// Number of epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Learning rate of the optimiser (--optimizer).
    #[arg(group = "run_settings", long)]
    pub lr: Option<f64>,
    /// Rows per mini-batch.
    #[arg(group = "run_settings", long)]
    pub batch_size: Option<usize>,
    /// Rows of generated data.
    #[arg(group = "run_settings", long)]
    pub samples: Option<usize>,
    /// Seed of the data and the initial weights.
    #[arg(group = "run_settings", long)]
    pub seed: Option<u64>,
    /// Hidden layer widths, e.g. 18,18,4.
    #[arg(
        group = "run_settings",
        long,
        value_delimiter = ',',
        value_name = "SIZES"
    )]
    pub hidden: Option<Vec<usize>>,
    /// Record per-layer gradient norms and dead/saturated units each epoch
    /// (costs about 18% of the seed run's training time, so it is opt-in).
    #[arg(group = "run_settings", long)]
    pub diagnostics: bool,
    /// Optimiser: adam (the seed's), adamw, sgd or rmsprop, with PyTorch's defaults
    /// (set their constants in the config's [optimizer]).
    #[arg(group = "run_settings", long, value_name = "NAME", value_parser = optimizer_name())]
    pub optimizer: Option<OptimizerKind>,
    /// Initial weights: pytorch (nn.Linear's default), xavier_uniform, xavier_normal,
    /// he_uniform, he_normal or lecun_normal (Xavier and He with the activation's gain).
    #[arg(group = "run_settings", long, value_name = "NAME", value_parser = init_name())]
    pub init: Option<InitKind>,
    /// Every N epochs, count the network's exact linear regions (2 inputs) or its mean linear
    /// pieces along lines through the data into metrics.csv's `regions` (`train plot run` draws it).
    #[arg(group = "run_settings", long, value_name = "N")]
    pub regions_every: Option<usize>,
    /// L1 penalty rate: adds RATE * sum |w| over the weights (not biases) to the loss trained on.
    #[arg(
        group = "run_settings",
        long,
        value_name = "RATE",
        allow_hyphen_values = true
    )]
    pub l1: Option<f64>,
    /// L2 penalty rate: adds RATE * sum w^2 over the weights (not biases) to the loss trained on.
    #[arg(
        group = "run_settings",
        long,
        value_name = "RATE",
        allow_hyphen_values = true
    )]
    pub l2: Option<f64>,
    /// Float type of weights and data (float64 shows which differences are rounding).
    #[arg(group = "run_settings", long, value_parser = precision_name())]
    pub precision: Option<Precision>,
}

impl CommonArgs {
    /// The flags that replace config values: one line each, naming the key
    /// it sets (errors in its value then name the flag).
    pub fn overrides(&self) -> Overrides {
        let mut overrides = Overrides::default();
        overrides
            .set("--epochs", "training.epochs", self.epochs)
            .set("--lr", "training.lr", self.lr)
            .set("--batch-size", "training.batch_size", self.batch_size)
            .set("--samples", "data.samples", self.samples)
            .set("--seed", "seed", self.seed)
            .set("--hidden", "model.hidden", self.hidden.as_ref())
            .set(
                "--diagnostics",
                "training.diagnostics",
                self.diagnostics.then_some(true),
            )
            .set("--precision", "training.precision", self.precision)
            .set(
                "--regions-every",
                "training.regions_every",
                self.regions_every,
            )
            .set("--l1", "training.l1", self.l1)
            .set("--l2", "training.l2", self.l2)
            .set("--optimizer", "optimizer.kind", self.optimizer)
            .set("--init", "model.init", self.init);
        overrides
    }
}

/// Options of `train` / `train run`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("out", |arg| arg.help("Directory for checkpoints (model.safetensors in PyTorch's \
    names and layout, optimizer.bpk, checkpoint.toml), metrics.csv and config.toml")))]
pub struct RunArgs {
    /// Config, backend and overrides.
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub activation: ActivationArg,
    #[command(flatten)]
    pub out: OutArg,
    /// With --out, checkpoint every N epochs as well as at the end (0: only at the end).
    #[arg(long, value_name = "N")]
    pub checkpoint_every: Option<usize>,
    /// Start from weights saved by PyTorch: a `torch.save(model.state_dict())`
    /// file (.pt) or a safetensors file, named fc1.weight [out, in], fc1.bias, ...
    #[arg(long, value_name = "FILE", conflicts_with = "resume")]
    pub init_weights: Option<PathBuf>,
    /// Continue the run checkpointed in DIR (its --out directory). Only
    /// --epochs, --checkpoint-every, --backend and --quiet may be given with it.
    #[arg(
        long,
        value_name = "DIR",
        conflicts_with_all = ["run_settings", "out"]
    )]
    pub resume: Option<PathBuf>,
    /// Print only the summary.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Options of `train diagnose`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("out", |arg| arg.help("Directory for metrics.csv and the resolved config.toml")))]
pub struct DiagnoseArgs {
    /// Config, backend and overrides.
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub activation: ActivationArg,
    #[command(flatten)]
    pub out: OutArg,
}

/// Options shared by `train predict` and `train eval`.
#[derive(Debug, Clone, Args)]
pub struct ModelInputArgs {
    /// A run's --out directory (config.toml, model.safetensors, checkpoint.toml).
    #[arg(long, value_name = "DIR")]
    pub model: PathBuf,
    /// CSV file of rows to score: the network's features, or for a run on a
    /// 2-D set the points x1, x2 (its engineered inputs are computed), for a
    /// function fit x. Its first row is a header when a cell in it is no
    /// number, unless --header or --no-header says.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// The CSV file's first row is a header (names), whatever it holds.
    #[arg(long, conflicts_with = "no_header")]
    pub header: bool,
    /// The CSV file has no header row: its first row is data.
    #[arg(long)]
    pub no_header: bool,
    #[command(flatten)]
    pub backend: BackendArg,
}

/// Options of `train predict`.
#[derive(Debug, Clone, Args)]
pub struct PredictArgs {
    /// The network and the rows.
    #[command(flatten)]
    pub source: ModelInputArgs,
    /// Write the predictions here as CSV (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Options of `train eval`.
#[derive(Debug, Clone, Args)]
pub struct EvalArgs {
    /// The network and the rows (the target column as in the run's config, else the last).
    #[command(flatten)]
    pub source: ModelInputArgs,
    /// Print the scores as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Options of `train bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Workloads, comma-separated: seed (100 samples, batch 10, 150 epochs),
    /// scaled (100k, batch 1000, hidden 256,256,64, 5 epochs), large (1M,
    /// batch 10k, hidden 1024,1024,256, 1 epoch), tiny (for tests).
    #[arg(
        long,
        value_delimiter = ',',
        value_name = "NAMES",
        default_value = "seed,scaled,large"
    )]
    pub workloads: Vec<String>,
    /// Backends, comma-separated (default: every compiled one).
    #[arg(long, value_parser = backend_name(), value_delimiter = ',', value_name = "NAMES")]
    pub backends: Option<Vec<BackendKind>>,
    /// Runs per workload and backend, each in a fresh process.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    pub runs: u32,
    /// Also write every run as CSV here.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Also run PyTorch's harness (scripts/bench_pytorch.py) with this Python,
    /// right after ours in every round, and print the ratio of steps/s per
    /// workload and backend, round against round.
    #[arg(long, value_name = "PYTHON")]
    pub against_pytorch: Option<PathBuf>,
    /// Time a ten-seed study of the seed run whole instead: `compare --seeds 10` (threads,
    /// and --jobs 1), `sweep run` (a process per seed) and, with --against-pytorch, PyTorch
    /// seed after seed, a process per seed, and the torch.func ensemble; --runs rounds.
    #[arg(long, conflicts_with_all = ["workloads", "backends"])]
    pub study: bool,
}

/// Options of the hidden `train bench-worker`.
#[derive(Debug, Clone, Args)]
#[command(mut_arg("backend", |arg| arg.required(true)))]
pub struct BenchWorkerArgs {
    /// Workload name.
    #[arg(long)]
    pub workload: String,
    #[command(flatten)]
    pub backend: BackendArg,
}

/// `--jobs`, or one per core when it is not given.
pub fn jobs_or_cores(jobs: Option<u16>) -> usize {
    jobs.map_or_else(train::backend::cores, usize::from)
}
