//! The tutorial's claims as checks: `compare`, the linear collapse, and the
//! pictures they produce.

use std::fs;

use crate::common::{csv_column, csv_column_text, path_str, polyline_lengths, svg_texts, train_ok};
use model::Activation;
use train::backend::{Backend, BackendKind};
use train::config::{DataKind, RunConfig};
use train::data;
use train::experiments::collapse::collapse;
use train::experiments::compare::{LEAST_SQUARES_NAME, LOGISTIC_NAME, compare};
use train::experiments::ensemble::{compare_seeds_batched, train_seeds};
use train::experiments::logistic::{LogisticFit, RIDGE};
use train::experiments::seed_tests::Family;
use train::experiments::seeds::{Scoring, compare_seeds};
use train::experiments::tuning::{TuneAxis, TunePlan, compare_tuned, tuning_csv};
use train::training::metric::Metric;
use train::training::trainer::{Trainer, run_to_end};

fn tiny_friedman() -> RunConfig {
    let mut config = RunConfig::default();
    config.data.kind = DataKind::Friedman1;
    config.data.samples = 200;
    config.data.validation_fraction = 0.2;
    config.data.standardize = true;
    config.model.hidden = vec![8, 8];
    config.training.epochs = 4;
    config.training.batch_size = 20;
    config.training.diagnostics = false;
    config
}

#[test]
fn compare_starts_every_activation_from_the_same_weights() {
    let config = tiny_friedman();
    let backend = Backend::open(BackendKind::Flex).unwrap();
    let split = data::load(&config.data, config.seed).unwrap();
    let activations = [Activation::Identity, Activation::Relu, Activation::Tanh].map(Into::into);
    let comparison = compare(&config, &backend, &split, &activations, 1, &|_| {}).unwrap();
    let rows = comparison.rows();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3].name, LEAST_SQUARES_NAME);
    assert!(rows.iter().all(|r| r.val_r2.is_some()));

    // Every run read back the same starting weights from its device.
    for run in &comparison.runs[1..] {
        assert_eq!(run.initial_weights, comparison.runs[0].initial_weights);
    }
    // Training in parallel changes nothing but the clock.
    let parallel = compare(&config, &backend, &split, &activations, 3, &|_| {}).unwrap();
    for (a, b) in comparison.runs.iter().zip(&parallel.runs) {
        let losses = |run: &train::experiments::compare::ActivationRun| -> Vec<(f64, Option<f64>)> {
            run.records.iter().map(|r| (r.loss, r.val_loss)).collect()
        };
        assert_eq!(losses(a), losses(b));
    }
}

#[test]
fn compare_initial_losses_are_equal_for_activations_that_agree_at_init() {
    // relu and leaky_relu(0) are the same function: from the same weights
    // their whole runs must match, which only holds if both start identically.
    let config = tiny_friedman();
    let backend = Backend::open(BackendKind::Flex).unwrap();
    let split = data::load(&config.data, config.seed).unwrap();
    let activations = [
        Activation::Relu,
        Activation::LeakyRelu {
            negative_slope: 0.0,
        },
    ]
    .map(Into::into);
    let comparison = compare(&config, &backend, &split, &activations, 1, &|_| {}).unwrap();
    assert_eq!(
        comparison.runs[0].records[0].loss,
        comparison.runs[1].records[0].loss
    );
}

#[test]
fn compare_writes_table_files_and_a_plot_with_one_series_per_activation() {
    let dir = tempfile::tempdir().unwrap();
    let config_path = dir.path().join("tiny.toml");
    fs::write(&config_path, tiny_friedman().to_toml()).unwrap();
    let out = dir.path().join("cmp");
    let (config_arg, out_arg) = (config_path.display().to_string(), out.display().to_string());
    let output = train_ok([
        "compare",
        "--config",
        &config_arg,
        "--activations",
        "identity,relu,tanh",
        "--out",
        &out_arg,
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    for name in ["identity", "relu", "tanh", LEAST_SQUARES_NAME] {
        assert!(stdout.contains(name), "{name} missing: {stdout}");
    }
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(summary.lines().count(), 5, "{summary}");
    let curves = fs::read_to_string(out.join("compare.csv")).unwrap();
    assert_eq!(curves.lines().count(), 1 + 3 * 4);

    let svg = fs::read_to_string(out.join("loss_curves.svg")).unwrap();
    let texts = svg_texts(&svg);
    for name in ["identity", "relu", "tanh", LEAST_SQUARES_NAME] {
        let entries = texts.iter().filter(|t| *t == name).count();
        assert_eq!(entries, 1, "legend entry {name}");
    }
    // One data polyline per activation with one point per epoch (legend
    // swatches are two-point lines).
    let curves = polyline_lengths(&svg)
        .into_iter()
        .filter(|&n| n == 4)
        .count();
    assert_eq!(curves, 3);
}

#[test]
fn an_identity_network_collapses_and_a_relu_network_does_not() {
    let mut config = RunConfig::default();
    config.model.hidden = vec![8, 6];
    config.training.epochs = 30;
    config.training.diagnostics = false;
    let backend = Backend::open(BackendKind::Flex).unwrap();
    let split = data::load(&config.data, config.seed).unwrap();
    let reports = collapse(
        &config,
        &backend,
        &split,
        &[Activation::Identity.into(), Activation::Relu.into()],
    )
    .unwrap();
    assert_eq!(reports[0].folded_shape, [1, 10]);
    assert!(
        reports[0].relative_error <= 1e-5,
        "identity: {}",
        reports[0].relative_error
    );
    assert!(
        reports[1].relative_error >= 1e-2,
        "relu: {}",
        reports[1].relative_error
    );
}

#[test]
fn collapse_json_is_machine_readable() {
    let output = train_ok(["collapse", "--epochs", "5", "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let reports = value.as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["activation"], "identity");
    assert!(reports[0]["relative_error"].as_f64().unwrap() <= 1e-5);
    assert!(reports[1]["relative_error"].as_f64().unwrap() >= 1e-2);
}

#[test]
fn seeds_pair_activations_on_shared_weights_and_draw_their_own_data() {
    let config = tiny_friedman();
    let backend = Backend::open(BackendKind::Flex).unwrap();
    let activations = [Activation::Identity, Activation::Relu, Activation::Tanh].map(Into::into);
    let summary = compare_seeds(
        &config,
        &backend,
        &activations,
        3,
        1,
        Scoring {
            metric: Metric::for_comparison(&config),
            family: Family::AgainstReference,
        },
        &|_, _| {},
    )
    .unwrap();
    assert_eq!(summary.seeds, [0, 1, 2]);
    assert_eq!(summary.metric, Metric::ValLoss);
    for comparison in &summary.comparisons {
        // Within a seed every activation starts from the same weights...
        let first = &comparison.runs[0].initial_weights;
        assert!(
            comparison
                .runs
                .iter()
                .all(|run| &run.initial_weights == first)
        );
    }
    // ...and each seed has its own.
    let firsts: Vec<_> = summary
        .comparisons
        .iter()
        .map(|c| &c.runs[0].initial_weights)
        .collect();
    assert_ne!(firsts[0], firsts[1]);
    assert_ne!(firsts[1], firsts[2]);
    // The rows summarise the seeds' own numbers.
    let relu_last: Vec<f64> = summary
        .comparisons
        .iter()
        .map(|c| c.runs[1].records.last().unwrap().val_loss.unwrap())
        .collect();
    let relu = &summary.rows[1];
    assert_eq!(relu.name, "relu");
    let mean = relu_last.iter().sum::<f64>() / 3.0;
    assert!((relu.last.unwrap().mean - mean).abs() < 1e-12);
    assert_eq!(relu.vs_reference.as_ref().unwrap().against, "identity");
    assert!(
        summary.rows[0].vs_reference.is_none(),
        "identity is the reference"
    );
    assert_eq!(summary.rows.last().unwrap().name, LEAST_SQUARES_NAME);
}

#[test]
fn compare_with_one_seed_is_todays_compare_and_with_three_writes_the_spread() {
    let dir = tempfile::tempdir().unwrap();
    let base = ["compare", "--epochs", "3", "--activations", "identity,relu"];
    let plain = dir.path().join("plain");
    let one = dir.path().join("one");
    let plain_out = train_ok(base.iter().copied().chain(["--out", path_str(&plain)]));
    let one_out = train_ok(
        base.iter()
            .copied()
            .chain(["--seeds", "1", "--out", path_str(&one)]),
    );
    // The table without its seconds (the one column printed with two decimals).
    let table = |out: &std::process::Output| -> Vec<String> {
        let seconds = |word: &str| {
            word.split_once('.').is_some_and(|(whole, decimals)| {
                decimals.len() == 2 && whole.parse::<u32>().is_ok()
            })
        };
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|line| !line.starts_with("wrote"))
            .map(|line| {
                let words = line
                    .split_whitespace()
                    .map(|w| if seconds(w) { "S" } else { w });
                words.collect::<Vec<_>>().join(" ")
            })
            .collect()
    };
    assert_eq!(table(&plain_out), table(&one_out));
    for column in ["train_loss", "grad_norm_l1"] {
        assert_eq!(
            csv_column_text(&plain.join("summary.csv"), column),
            csv_column_text(&one.join("summary.csv"), column)
        );
    }

    let three = dir.path().join("three");
    let output = train_ok(
        base.iter()
            .copied()
            .chain(["--seeds", "3", "--out", path_str(&three)]),
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("3 seeds (0..=2); train_loss per activation"),
        "{stdout}"
    );
    let summary = three.join("summary.csv");
    assert_eq!(csv_column(&summary, "runs"), [3.0, 3.0, 3.0]);
    let win_rate = csv_column_text(&summary, "vs_reference_win_rate");
    assert_eq!(win_rate[0], "", "identity is the reference");
    let relu_win: f64 = win_rate[1].parse().unwrap();
    assert!((0.0..=1.0).contains(&relu_win));
    // The paired tests: one comparison (relu vs identity), three seeds,
    // too few for the exact Wilcoxon test to reach 0.05 (its floor is 1/4).
    assert!(
        stdout.contains(
            "paired tests of the final train_loss, two-sided, Holm-adjusted over the 1 comparison:"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("with 3 seeds the exact Wilcoxon test cannot reach 0.05")
            && stdout.contains("6 seeds would be needed"),
        "{stdout}"
    );
    let tests = three.join("tests.csv");
    assert_eq!(csv_column_text(&tests, "activation"), ["relu"]);
    assert_eq!(csv_column_text(&tests, "against"), ["identity"]);
    let record: f64 = ["wins", "ties", "losses"]
        .iter()
        .map(|c| csv_column(&tests, c)[0])
        .sum();
    assert_eq!(record, 3.0);
    // One comparison: Holm leaves its p-value as it is; summary.csv repeats it.
    let t_p = csv_column(&tests, "t_p")[0];
    assert!((0.0..=1.0).contains(&t_p));
    assert_eq!(csv_column(&tests, "t_p_holm")[0], t_p);
    assert_eq!(
        csv_column_text(&summary, "vs_reference_t_p")[1],
        csv_column_text(&tests, "t_p")[0]
    );
    assert!(csv_column(&tests, "wilcoxon_p")[0] >= 0.25);
    assert_eq!(
        csv_column_text(&three.join("seeds.csv"), "seed"),
        ["0", "0", "1", "1", "2", "2"]
    );
    let svg = fs::read_to_string(three.join("loss_curves.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let bands = doc
        .descendants()
        .filter(|n| n.has_tag_name("polygon"))
        .count();
    assert_eq!(bands, 2, "one CI band per activation");
}

#[test]
fn diverged_seeds_are_counted_and_left_out() {
    let args = [
        "compare",
        "--epochs",
        "2",
        "--activations",
        "relu",
        "--seeds",
        "2",
        "--lr",
        "1e6",
    ];
    let output = crate::common::train_bin().args(args).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("diverged"), "{stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("(2 diverged, left out)"), "{stdout}");
}

#[test]
fn on_classes_the_linear_row_is_logistic_regression_by_maximum_likelihood() {
    // scikit-learn's breast-cancer data: the config names it relative to
    // itself, so compare runs from any working directory.
    let config_path = crate::common::repo_root().join("config/breast-cancer.toml");
    let elsewhere = tempfile::tempdir().unwrap();
    let output = crate::common::train_bin()
        .current_dir(elsewhere.path())
        .arg("compare")
        .arg("--config")
        .arg(&config_path)
        .args(["--activations", "identity", "--epochs", "3", "--out", "cmp"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let row = stdout
        .lines()
        .find(|line| line.starts_with(LOGISTIC_NAME) && !line.contains("Newton"))
        .unwrap_or_else(|| panic!("no logistic row: {stdout}"));
    assert!(
        stdout.contains("intercept unpenalised, ridge 1e-4")
            && stdout.contains("C = 21.9780 for these 455 rows"),
        "the note says how it was fitted: {stdout}"
    );
    // The row is the library's fit on the run's training rows.
    let config = RunConfig::from_file(&config_path).unwrap();
    let split = data::load_for(&config).unwrap();
    let fit = LogisticFit::fit(&split.train, RIDGE);
    let validation = split.validation.as_ref().unwrap();
    let shown = format!("{:.1}%", 100.0 * fit.accuracy(validation));
    assert!(row.contains(&shown), "{row} shows {shown}");
    assert!(
        row.contains(&format!("{:.6}", fit.log_loss(validation))),
        "{row}"
    );
    let names = csv_column_text(&elsewhere.path().join("cmp/summary.csv"), "activation");
    assert_eq!(names, ["identity", LOGISTIC_NAME]);
}

#[test]
fn tuning_chooses_each_activations_best_validation_value_then_scores_fresh_seeds_on_test_rows() {
    let mut config = tiny_friedman();
    config.data.test_fraction = 0.2;
    let backend = Backend::open(BackendKind::Flex).unwrap();
    let activations = [Activation::Identity, Activation::Relu].map(Into::into);
    let axes: Vec<TuneAxis> = vec!["training.lr=0.001,0.03".parse().unwrap()];
    let tuned = compare_tuned(
        &config,
        &backend,
        &activations,
        &TunePlan {
            axes: &axes,
            tuning_seeds: 2,
            seeds: 3,
            jobs: 1,
            family: Family::AgainstReference,
            batched: false,
        },
        &|_, _| {},
        &|_, _| {},
    )
    .unwrap();
    assert_eq!(tuned.tuning_metric, Metric::ValLoss);
    assert_eq!(tuned.tuning_seeds, [0, 1]);
    // Fresh seeds after the tuning ones, ranked on the test rows.
    assert_eq!(tuned.summary.seeds, [2, 3, 4]);
    assert_eq!(tuned.summary.metric, Metric::TestLoss);
    for (index, choice) in tuned.choices.iter().enumerate() {
        let means: Vec<f64> = choice
            .scores
            .iter()
            .map(|s| s.score.unwrap().mean)
            .collect();
        let best = if means[0] <= means[1] { 0 } else { 1 };
        assert_eq!(choice.chosen, Some(best), "{means:?}");
        assert_eq!(choice.runner_up, Some(1 - best));
        // The final runs are plain runs at the chosen rate on the fresh seed.
        let mut plain = config.clone();
        plain.training.lr = [0.001, 0.03][best];
        plain.seed = 3;
        let split = data::load_for(&plain).unwrap();
        let alone = compare(&plain, &backend, &split, &[activations[index]], 1, &|_| {}).unwrap();
        let final_run = &tuned.summary.comparisons[1].runs[index];
        assert_eq!(final_run.row.test_loss, alone.runs[0].row.test_loss);
        assert!(final_run.row.test_loss.is_some());
        assert_ne!(final_run.row.test_loss, final_run.row.val_loss);
    }
    let csv = String::from_utf8(tuning_csv(&tuned).unwrap()).unwrap();
    assert!(
        csv.starts_with("activation,training.lr,runs,diverged,val_loss_mean,"),
        "{csv}"
    );
    assert_eq!(csv.lines().filter(|l| l.ends_with(",true")).count(), 2);
    assert_eq!(tuned.summary.tests.len(), 1);
    assert_eq!(tuned.summary.tests[0].difference.n, 3);
}

#[test]
fn compare_tune_prints_the_choices_the_test_table_and_the_tests() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tune.toml");
    fs::write(
        &config,
        "[data]\nkind = \"friedman1\"\nsamples = 100\nvalidation_fraction = 0.2\n\
         test_fraction = 0.2\nstandardize = true\n[model]\nhidden = [8]\n\
         [training]\nepochs = 2\nbatch_size = 20\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let output = train_ok([
        "compare",
        "--config",
        path_str(&config),
        "--activations",
        "identity,relu,tanh",
        "--tune",
        "training.lr=0.001,0.01",
        "--tune-seeds",
        "2",
        "--seeds",
        "3",
        "--all-pairs",
        "--out",
        path_str(&out),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(
            "tuned per activation over 2 seeds (0..=1): the best mean val_loss of 2 combinations"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 seeds (2..=4); test_loss per activation"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Holm-adjusted over the 3 comparisons"),
        "{stdout}"
    );
    assert!(stdout.contains("tanh vs relu"), "{stdout}");
    assert_eq!(
        csv_column_text(&out.join("tuning.csv"), "activation").len(),
        6
    );
    assert_eq!(csv_column_text(&out.join("tests.csv"), "against").len(), 3);
    assert!(out.join("loss_curves.png").exists());
    // Without a test part there is nothing fair to score on.
    fs::write(&config, "[data]\nvalidation_fraction = 0.2\n").unwrap();
    let failed = crate::common::train_bin()
        .args([
            "compare",
            "--config",
            path_str(&config),
            "--tune",
            "training.lr=0.001,0.01",
        ])
        .output()
        .unwrap();
    assert_eq!(failed.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&failed.stderr).trim(),
        "error: --tune scores the chosen values on rows tuning never saw: set data.test_fraction > 0"
    );
}

#[test]
fn the_number_of_jobs_changes_nothing_but_the_wall_time() {
    let config = tiny_friedman();
    let backend = Backend::open(BackendKind::Flex).unwrap();
    let activations = [Activation::Identity, Activation::Relu, Activation::Tanh].map(Into::into);
    let scoring = Scoring {
        metric: Metric::for_comparison(&config),
        family: Family::AllPairs,
    };
    let run = |jobs: usize| {
        compare_seeds(
            &config,
            &backend,
            &activations,
            3,
            jobs,
            scoring,
            &|_, _| {},
        )
        .unwrap()
    };
    let (one, three) = (run(1), run(3));
    assert_eq!(one.rows, three.rows);
    assert_eq!(one.tests, three.tests);
    for (a, b) in one.comparisons.iter().zip(&three.comparisons) {
        for (x, y) in a.runs.iter().zip(&b.runs) {
            assert_eq!(x.final_weights, y.final_weights);
        }
    }
}

#[test]
fn seeds_batched_into_one_model_train_as_separate_runs_do() {
    let mut config = RunConfig::default();
    config.training.epochs = 30;
    let backend = Backend::open(BackendKind::Flex).unwrap();
    let seeds = [0, 1, 2];
    let batched = train_seeds(&config, &seeds, &backend).unwrap();
    let mut largest = 0.0f32;
    for (k, &seed) in seeds.iter().enumerate() {
        let mut alone = config.clone();
        alone.seed = seed;
        let split = data::load_for(&alone).unwrap();
        let weights = train::training::init::initial_weights_for(&alone);
        let trainer = Trainer::new(&alone, &backend, &split, &weights).unwrap();
        let outcome = run_to_end(trainer, alone.training.epochs);
        let ours = batched.runs[k].weights.as_ref().unwrap();
        for (theirs, ours) in outcome.model.to_weights().iter().zip(ours) {
            for (a, b) in theirs.weight.iter().zip(&ours.weight) {
                largest = largest.max((a - b).abs() / a.abs().max(1.0));
            }
        }
        // Every epoch's last-batch and full-pass losses.
        for (a, b) in outcome.records.iter().zip(&batched.runs[k].records) {
            for (x, y) in [
                (a.loss, b.loss),
                (a.train_loss.unwrap(), b.train_loss.unwrap()),
            ] {
                assert!(
                    (x - y).abs() / x < 1e-4,
                    "seed {seed} epoch {}: {x} alone, {y} batched",
                    a.epoch
                );
            }
        }
    }
    // 30 epochs of Adam from the same start: float32 rounding, no more
    // (below 1e-6 on the Intel Xeon AVX-512 dev machine).
    assert!(
        largest < 1e-5,
        "largest relative weight difference {largest}"
    );
}

#[test]
fn compare_batched_over_seeds_gives_the_rows_of_separate_runs() {
    let mut config = tiny_friedman();
    config.data.test_fraction = 0.2;
    let backend = Backend::open(BackendKind::Flex).unwrap();
    let activations = [Activation::Identity, Activation::Relu, Activation::Tanh].map(Into::into);
    let scoring = Scoring {
        metric: Metric::for_comparison(&config),
        family: Family::AgainstReference,
    };
    let separate =
        compare_seeds(&config, &backend, &activations, 3, 1, scoring, &|_, _| {}).unwrap();
    let batched =
        compare_seeds_batched(&config, &backend, &activations, 3, scoring, &|_, _| {}).unwrap();
    assert_eq!(batched.seeds, separate.seeds);
    let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-4 * a.abs().max(1e-3),
        (a, b) => a == b,
    };
    for (b, s) in batched.comparisons.iter().zip(&separate.comparisons) {
        for (x, y) in b.runs.iter().zip(&s.runs) {
            assert_eq!(x.initial_weights, y.initial_weights);
            for (p, q) in [
                (x.row.train_loss, y.row.train_loss),
                (x.row.val_loss, y.row.val_loss),
                (x.row.test_loss, y.row.test_loss),
            ] {
                assert!(close(p, q), "{}: {p:?} batched, {q:?} separate", x.row.name);
            }
        }
        assert_eq!(b.linear, s.linear);
    }
    assert_eq!(batched.tests.len(), 2);
    // What cannot train batched is refused in one line.
    let mut clipped = config.clone();
    clipped.training.clip_grad_norm = Some(1.0);
    let error = compare_seeds_batched(&clipped, &backend, &activations, 2, scoring, &|_, _| {})
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("gradient clipping"), "{error}");
}
