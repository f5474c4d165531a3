//! Playground data end to end: 2-D classification and 1-D fits through
//! `compare`, `train`, `plot surface`, `predict` and `eval`, and the
//! one-line errors of their config keys.

use std::fs;
use std::path::Path;

use crate::common::{
    cpu_backends, csv_column, csv_column_text, path_str, repo_root, svg_texts, train_ok, user_error,
};

fn config(name: &str) -> String {
    repo_root().join("config").join(name).display().to_string()
}

/// The panel titles of a surface/fit figure: texts that start with an activation name.
fn panel_titles(svg_path: &Path, activations: &[&str]) -> Vec<String> {
    let svg = fs::read_to_string(svg_path).unwrap();
    svg_texts(&svg)
        .into_iter()
        .filter(|text| {
            activations
                .iter()
                .any(|a| text.starts_with(&format!("{a}:")))
        })
        .collect()
}

#[test]
fn compare_on_circle_reports_accuracy_and_draws_one_surface_per_activation() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("circle");
    let output = train_ok([
        "compare",
        "--config",
        &config("circle.toml"),
        "--activations",
        "identity,relu",
        "--epochs",
        "30",
        "--out",
        path_str(&out),
    ]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(table.contains("val acc"), "{table}");
    let summary = out.join("summary.csv");
    let names = csv_column_text(&summary, "activation");
    let accuracy = csv_column(&summary, "val_accuracy");
    assert_eq!(names[..2], ["identity", "relu"]);
    // The ring around the disc: no straight line gets far past the majority.
    assert!(accuracy[0] <= 0.7, "identity {}", accuracy[0]);
    assert!(accuracy[1] >= 0.9, "relu {}", accuracy[1]);
    let titles = panel_titles(&out.join("surfaces.svg"), &["identity", "relu"]);
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles[0].contains("val accuracy"), "{titles:?}");
    let png = fs::read(out.join("surfaces.png")).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
    let metrics = csv_column_text(&out.join("compare.csv"), "val_accuracy");
    assert!(metrics.iter().all(|cell| !cell.is_empty()));
}

#[test]
fn compare_on_a_sine_counts_linear_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sine");
    train_ok([
        "compare",
        "--config",
        &config("sine.toml"),
        "--activations",
        "identity,relu",
        "--epochs",
        "40",
        "--out",
        path_str(&out),
    ]);
    let summary = out.join("summary.csv");
    let names = csv_column_text(&summary, "activation");
    let pieces = csv_column(&summary, "linear_pieces");
    assert_eq!(names[..2], ["identity", "relu"]);
    assert_eq!(pieces[0], 1.0, "identity draws one straight line");
    assert!(pieces[1] > 1.0, "relu: {pieces:?}");
    assert_eq!(pieces[2], 1.0, "least squares is a line");
    let titles = panel_titles(&out.join("fits.svg"), &["identity", "relu"]);
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles[0].ends_with("1 linear piece"), "{titles:?}");
    assert!(out.join("fits.png").exists());

    // One function run: `plot surface` draws its fit and counts its pieces.
    let run = dir.path().join("run");
    train_ok([
        "--config",
        &config("sine.toml"),
        "--activation",
        "identity",
        "--epochs",
        "5",
        "--quiet",
        "--out",
        path_str(&run),
    ]);
    let output = train_ok(["plot", "surface", path_str(&run)]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("the fit: 1 linear piece\n"), "{stdout}");
    let texts = svg_texts(&fs::read_to_string(run.join("fit.svg")).unwrap());
    assert!(texts.contains(&"true function".to_string()), "{texts:?}");
}

#[test]
fn a_circle_run_draws_its_surface_and_predicts_classes_from_points() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    train_ok([
        "--config",
        &config("circle.toml"),
        "--epochs",
        "25",
        "--quiet",
        "--out",
        path_str(&run),
    ]);
    let metrics = run.join("metrics.csv");
    assert!(csv_column(&metrics, "val_accuracy").last().unwrap() >= &0.9);
    train_ok(["plot", "run", path_str(&run)]);
    let texts = svg_texts(&fs::read_to_string(run.join("run.svg")).unwrap());
    assert!(texts.contains(&"Accuracy".to_string()), "{texts:?}");

    train_ok(["plot", "surface", path_str(&run)]);
    let svg = fs::read_to_string(run.join("surface.svg")).unwrap();
    let titles: Vec<String> = svg_texts(&svg)
        .into_iter()
        .filter(|t| t.starts_with("relu on circle, epoch"))
        .collect();
    assert_eq!(titles.len(), 1, "one panel");
    assert!(run.join("surface.png").exists());

    // Points, not engineered inputs: the centre is the disc, a far corner the ring.
    let points = dir.path().join("points.csv");
    fs::write(
        &points,
        "x1,x2,label\n0.0,0.05,1\n0.85,0.0,0\n-0.1,-0.1,1\n0.0,-0.9,0\n",
    )
    .unwrap();
    let output = train_ok([
        "predict",
        "--model",
        path_str(&run),
        "--input",
        path_str(&points),
    ]);
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "probability,class", "{text}");
    let classes: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(classes, ["1", "0", "1", "0"], "{text}");
    for line in &lines[1..] {
        let p: f64 = line.split(',').next().unwrap().parse().unwrap();
        assert!((0.0..=1.0).contains(&p), "{text}");
    }
    let output = train_ok([
        "eval",
        "--model",
        path_str(&run),
        "--input",
        path_str(&points),
        "--json",
    ]);
    let scores: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(scores["rows"], 4);
    assert_eq!(scores["accuracy"], 1.0, "{scores}");
    assert!(scores["bce"].as_f64().unwrap() > 0.0, "{scores}");
}

#[test]
fn playground_mistakes_are_one_line_errors_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        fs::write(&path, text).unwrap();
        path.display().to_string()
    };
    let cases = [
        (
            write(
                "features.toml",
                "[data]\nkind = \"circle\"\nfeatures = 2\n[model]\ninput = 2\n",
            ),
            "key `data.features`: does not apply to data.kind = \"circle\"",
        ),
        (
            write(
                "function.toml",
                "[data]\nkind = \"function\"\nfunction = \"cosh\"\n",
            ),
            ":3: key `data.function`: unknown variant `cosh`",
        ),
        (
            write(
                "input.toml",
                "[data]\nkind = \"xor\"\ninputs = [\"x1\", \"x1^3\"]\n",
            ),
            "key `data.inputs",
        ),
        (
            write(
                "noise.toml",
                "[data]\nkind = \"moons\"\nnoise_std = 5.0\n[model]\ninput = 2\n",
            ),
            "key `data.noise_std`: must be at most 1",
        ),
        (
            write("bce.toml", "[training]\nloss = \"bce\"\n"),
            "key `training.loss`: bce needs 0/1 labels, but data.kind = \"noise\"",
        ),
        (
            write(
                "width.toml",
                "[data]\nkind = \"circle\"\ninputs = [\"x1^2\", \"x2^2\", \"x1*x2\"]\n[model]\ninput = 2\n",
            ),
            "key `model.input`: is 2 but data.inputs has 3 (x1^2, x2^2, x1*x2)",
        ),
        (
            write(
                "output.toml",
                "[data]\nkind = \"circle\"\n[model]\ninput = 2\noutput = 3\n[training]\nloss = \"bce\"\n",
            ),
            "key `model.output`: must be 1: training.loss = \"bce\" takes one logit (got 3)",
        ),
    ];
    crate::common::config_errors_name_their_file(&cases);
    // bce on a CSV file's real-valued target: checked when the file is read.
    let csv = write("data.csv", "a,y\n1,0\n2,0.5\n");
    let bce_csv = write(
        "bce_csv.toml",
        &format!(
            "[data]\nkind = \"csv\"\npath = \"{csv}\"\n[model]\ninput = 1\n[training]\nloss = \"bce\"\n"
        ),
    );
    let error = user_error(&["--config", &bce_csv, "--epochs", "1"]);
    assert_eq!(
        error,
        format!("training.loss = \"bce\" needs 0/1 targets, but data row 2 of {csv} has 0.5")
    );
    // A surface needs 2-D or function data.
    let run = dir.path().join("noise-run");
    train_ok(["--epochs", "1", "--quiet", "--out", path_str(&run)]);
    let error = user_error(&["plot", "surface", path_str(&run)]);
    assert!(
        error.contains(
            "data.kind = \"noise\" has 10 inputs; pictures are drawn for networks that see 1 or 2"
        ),
        "{error}"
    );
}

/// A CSV file of two feature columns and 0/1 labels: one class inside the
/// parabola `y > x^2 / 2`, the other outside.
fn parabola_csv(path: &Path) {
    let mut text = String::from("height,weight,label\n");
    let mut state = 7u64;
    let mut uniform = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for _ in 0..240 {
        let (x, y) = (uniform() * 4.0 - 2.0, uniform() * 4.0 - 1.0);
        let label = u8::from(y > x * x / 2.0);
        text.push_str(&format!("{x:.4},{y:.4},{label}\n"));
    }
    fs::write(path, text).unwrap();
}

#[test]
fn your_own_csv_data_gets_its_surface_and_its_fit() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("parabola.csv");
    parabola_csv(&csv);
    let config = dir.path().join("parabola.toml");
    fs::write(
        &config,
        format!(
            "[data]\nkind = \"csv\"\npath = \"{}\"\nvalidation_fraction = 0.2\nstandardize = true\n\
             [model]\ninput = 2\nhidden = [16, 16]\n[training]\nepochs = 40\nlr = 0.01\nloss = \"bce\"\n",
            csv.display()
        ),
    )
    .unwrap();
    let run = dir.path().join("run");
    train_ok([
        "--config",
        path_str(&config),
        "--quiet",
        "--out",
        path_str(&run),
    ]);
    train_ok(["plot", "surface", path_str(&run)]);
    let texts = svg_texts(&fs::read_to_string(run.join("surface.svg")).unwrap());
    for expected in [
        "relu on parabola.csv, epoch 40",
        "height",
        "weight",
        "p(class 1)",
        "class 0",
        "class 1",
        "0.5: boundary",
    ] {
        assert!(
            texts.iter().any(|t| t == expected),
            "{expected} in {texts:?}"
        );
    }
    assert_eq!(&fs::read(run.join("surface.png")).unwrap()[..4], b"\x89PNG");

    // compare draws one panel per activation on the same data.
    let out = dir.path().join("compare");
    train_ok([
        "compare",
        "--config",
        path_str(&config),
        "--activations",
        "identity,relu",
        "--epochs",
        "10",
        "--out",
        path_str(&out),
    ]);
    let titles = panel_titles(&out.join("surfaces.svg"), &["identity", "relu"]);
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(out.join("surfaces.png").exists());

    // One feature column: a fit, its pieces counted (relu) over the data's range.
    let line = dir.path().join("line.csv");
    let rows: String = (0..120)
        .map(|i| {
            let x = f64::from(i) / 12.0;
            format!("{x:.4},{:.4}\n", (x - 5.0).abs())
        })
        .collect();
    fs::write(&line, format!("dose,response\n{rows}")).unwrap();
    let line_config = dir.path().join("line.toml");
    fs::write(
        &line_config,
        format!(
            "[data]\nkind = \"csv\"\npath = \"{}\"\nstandardize = true\n[model]\ninput = 1\n\
             hidden = [8, 8]\n[training]\nepochs = 20\nlr = 0.01\n",
            line.display()
        ),
    )
    .unwrap();
    let fit_run = dir.path().join("fit-run");
    train_ok([
        "--config",
        path_str(&line_config),
        "--quiet",
        "--out",
        path_str(&fit_run),
    ]);
    let output = train_ok(["plot", "surface", path_str(&fit_run)]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("the fit: ") && stdout.contains("linear piece"),
        "{stdout}"
    );
    let texts = svg_texts(&fs::read_to_string(fit_run.join("fit.svg")).unwrap());
    assert!(
        texts.iter().any(|t| t == "dose") && texts.iter().any(|t| t == "response"),
        "{texts:?}"
    );
    assert!(
        !texts.iter().any(|t| t == "true function"),
        "a CSV has no known function: {texts:?}"
    );
}

#[test]
fn regions_map_a_two_input_network_and_count_pieces_along_lines_for_more() {
    let dir = tempfile::tempdir().unwrap();
    let run = |activation: &str| {
        let out = dir.path().join(activation);
        train_ok([
            "--config",
            &config("circle.toml"),
            "--activation",
            activation,
            "--epochs",
            "20",
            "--quiet",
            "--out",
            path_str(&out),
        ]);
        out
    };
    let json = |args: &[&str]| -> serde_json::Value {
        let output = train_ok(args.iter().copied().chain(["--json"]));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    // Identity: one affine map everywhere, the boundary a line through it.
    let identity = run("identity");
    let counts = json(&["regions", path_str(&identity)]);
    assert_eq!(counts["regions"], 1, "{counts}");
    assert_eq!(counts["boundary_regions"], 1, "{counts}");
    let relu = run("relu");
    let counts = json(&["regions", path_str(&relu)]);
    assert!(counts["regions"].as_u64().unwrap() > 10, "{counts}");
    let texts = svg_texts(&fs::read_to_string(relu.join("regions.svg")).unwrap());
    let count = counts["regions"].as_u64().unwrap();
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with(&format!("relu on circle, epoch 20: {count} linear regions"))),
        "{texts:?}"
    );
    assert!(relu.join("regions.png").exists());
    // Every unit drawn, named as diagnose names the layers.
    train_ok(["plot", "neurons", path_str(&relu)]);
    let texts = svg_texts(&fs::read_to_string(relu.join("neurons.svg")).unwrap());
    let units = texts
        .iter()
        .filter(|t| t.starts_with("fc1 #") || t.starts_with("fc2 #"))
        .count();
    assert_eq!(
        units, 16,
        "one panel per hidden unit of [2, 8, 8, 1]: {texts:?}"
    );
    assert!(relu.join("neurons.png").exists());
    // A smaller box holds fewer regions.
    let inner = json(&["regions", path_str(&relu), "--box", "-0.2,0.2,-0.2,0.2"]);
    assert!(inner["regions"].as_u64() < Some(count), "{inner}");

    // Over training: every 5th epoch's count in metrics.csv (identity: 1).
    let tracked = dir.path().join("tracked");
    train_ok([
        "--config",
        &config("circle.toml"),
        "--activation",
        "identity",
        "--epochs",
        "10",
        "--regions-every",
        "5",
        "--quiet",
        "--out",
        path_str(&tracked),
    ]);
    let counts = csv_column_text(&tracked.join("metrics.csv"), "regions");
    assert_eq!(
        counts.iter().filter(|c| !c.is_empty()).collect::<Vec<_>>(),
        ["1", "1"],
        "{counts:?}"
    );
    assert!(
        counts[4] == "1" && counts[9] == "1" && counts[0].is_empty(),
        "{counts:?}"
    );
    // compare: a regions column, identity exactly 1, smooth ones `smooth`.
    let compared = dir.path().join("compare");
    train_ok([
        "compare",
        "--config",
        &config("circle.toml"),
        "--activations",
        "identity,relu,tanh",
        "--epochs",
        "10",
        "--out",
        path_str(&compared),
    ]);
    let regions = csv_column_text(&compared.join("summary.csv"), "linear_regions");
    assert_eq!(regions[0], "1", "{regions:?}");
    assert!(regions[1].parse::<usize>().unwrap() > 1, "{regions:?}");
    assert_eq!(regions[2], "smooth", "{regions:?}");
    assert!(compared.join("regions.png").exists());

    // A file where --out wants a directory: the user's mistake (exit 2).
    let in_the_way = dir.path().join("a-file");
    fs::write(&in_the_way, "").unwrap();
    let error = user_error(&["regions", path_str(&relu), "--out", path_str(&in_the_way)]);
    assert!(
        error.ends_with("exists and is not a directory; give --out a directory"),
        "{error}"
    );
    // The count is the weights': every backend that reads them counts the same.
    for backend in cpu_backends() {
        let again = json(&["regions", path_str(&relu), "--backend", backend.name()]);
        assert_eq!(again["regions"], count, "{backend}: {again}");
    }
    // The same weights as a file with their config: the same count.
    let from_file = json(&[
        "regions",
        "--weights",
        path_str(&relu.join("model.safetensors")),
        "--config",
        path_str(&relu.join("config.toml")),
        "--out",
        path_str(&dir.path().join("from-file")),
    ]);
    assert_eq!(from_file["regions"], count, "{from_file}");
    assert!(from_file["epoch"].is_null(), "{from_file}");
    assert!(dir.path().join("from-file/regions.png").exists());

    // Smooth: said in one line, and the sampled map of near-linear and flat
    // units drawn instead, labelled as sampled.
    let tanh = run("tanh");
    let sampled = json(&["regions", path_str(&tanh)]);
    assert!(sampled["regions"].is_null(), "{sampled}");
    assert!(
        sampled["why"]
            .as_str()
            .unwrap()
            .starts_with("tanh is smooth: a network of tanh units has no linear regions"),
        "{sampled}"
    );
    assert_eq!(
        sampled["sampled"]["kind"], "patterns of near-linear and flat units",
        "{sampled}"
    );
    assert!(
        sampled["sampled"]["patterns"].as_u64() > Some(1),
        "{sampled}"
    );
    let texts = svg_texts(&fs::read_to_string(tanh.join("regions.svg")).unwrap());
    assert!(
        texts
            .iter()
            .any(|t| t.contains("sampled on a 200 x 200 grid")),
        "{texts:?}"
    );
    // Curved inputs bend a relu network's pieces: the sampled pattern map.
    let curved_config = dir.path().join("curved.toml");
    fs::write(
        &curved_config,
        fs::read_to_string(config("circle.toml"))
            .unwrap()
            .replace(
                "inputs = [\"x1\", \"x2\"]",
                "inputs = [\"x1\", \"x2\", \"x1^2\", \"x2^2\"]",
            )
            .replace("input = 2 ", "input = 4 "),
    )
    .unwrap();
    let curved = dir.path().join("curved");
    train_ok([
        "--config",
        path_str(&curved_config),
        "--epochs",
        "20",
        "--quiet",
        "--out",
        path_str(&curved),
    ]);
    // Identity never switches: one pattern even on curved inputs.
    let flat = dir.path().join("curved-identity");
    train_ok([
        "--config",
        path_str(&curved_config),
        "--activation",
        "identity",
        "--epochs",
        "3",
        "--quiet",
        "--out",
        path_str(&flat),
    ]);
    let one = json(&["regions", path_str(&flat)]);
    assert_eq!(one["sampled"]["patterns"], 1, "{one}");
    let sampled = json(&["regions", path_str(&curved)]);
    assert!(
        sampled["why"]
            .as_str()
            .unwrap()
            .starts_with("the input `x1^2` is not linear in the points"),
        "{sampled}"
    );
    assert_eq!(
        sampled["sampled"]["kind"], "activation patterns",
        "{sampled}"
    );
    assert!(
        sampled["sampled"]["patterns"].as_u64() > Some(1),
        "{sampled}"
    );

    // The seed's 10-input network: no map, but pieces along lines.
    let seed = dir.path().join("seed");
    train_ok(["--epochs", "30", "--quiet", "--out", path_str(&seed)]);
    let error = user_error(&["regions", path_str(&seed)]);
    assert!(error.ends_with("the network sees 10 inputs; a region map needs 2; count its linear pieces along lines through the data with --lines N"), "{error}");
    let error = user_error(&["plot", "neurons", path_str(&seed)]);
    assert!(
        error.ends_with(
            "data.kind = \"noise\" has 10 inputs; pictures are drawn for networks that see 1 or 2"
        ),
        "{error}"
    );
    let lines = json(&["regions", path_str(&seed), "--lines", "20"]);
    assert_eq!(lines["lines"], 20);
    assert!(
        lines["pieces_mean"].as_f64() > Some(1.0),
        "a trained relu net bends: {lines}"
    );
    // More inputs than 2: the tracker counts pieces per line, in its own column.
    let tracked = dir.path().join("seed-tracked");
    train_ok([
        "--epochs",
        "4",
        "--regions-every",
        "3",
        "--quiet",
        "--out",
        path_str(&tracked),
    ]);
    let pieces = csv_column_text(&tracked.join("metrics.csv"), "pieces_per_line");
    assert!(
        pieces[2].parse::<f64>().unwrap() >= 1.0 && !pieces[3].is_empty() && pieces[0].is_empty(),
        "{pieces:?}"
    );
    let flat = dir.path().join("seed-identity");
    train_ok([
        "--epochs",
        "5",
        "--activation",
        "identity",
        "--quiet",
        "--out",
        path_str(&flat),
    ]);
    let lines = json(&["regions", path_str(&flat), "--lines", "20"]);
    assert_eq!(lines["pieces_mean"], 1.0, "{lines}");
}
